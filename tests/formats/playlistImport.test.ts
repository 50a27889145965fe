import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTrack } from '../../shared/corpus/trackString.ts';
import {
  detectImportFormat,
  MAX_IMPORT_ENTRIES,
  parseImport,
  type ParsedImport,
} from '../../shared/formats/playlistImport.ts';
import { exportTracklist, splitArtistTitle, type ExportSong } from '../../shared/formats/tracklistExport.ts';
import { teamFolder } from '../../training/teamFolder.ts';

const pairs = (r: ParsedImport): [string, string][] => r.entries.map((e) => [e.artist, e.title]);
const lines = (r: ParsedImport): number[] => r.entries.map((e) => e.line);
const songs = (names: string[]): ExportSong[] => names.map((name, i) => ({ id: `s${i}`, name, artists: [] }));

describe('detectImportFormat', () => {
  it('goes by extension first, then by content', () => {
    expect(detectImportFormat('Âme - Rej', 'list.m3u8')).toBe('m3u');
    expect(detectImportFormat('Âme - Rej', 'C:\\Music\\list.M3U')).toBe('m3u');
    expect(detectImportFormat('x', 'export.xml')).toBe('rekordbox');
    expect(detectImportFormat('Âme - Rej', 'likes.csv')).toBe('csv');
    expect(detectImportFormat('Âme - Rej', 'likes.tsv')).toBe('csv');
    expect(detectImportFormat('#\tTrack Title\tArtist\n1\tRej\tÂme', 'rb.txt')).toBe('csv');
    expect(detectImportFormat('01. Âme - Rej', 'set.txt')).toBe('lines');
    expect(detectImportFormat('\uFEFF#EXTM3U\n#EXTINF:-1,Âme - Rej\nx.mp3')).toBe('m3u');
    expect(detectImportFormat('\n#EXTINF:-1,Âme - Rej\nx.mp3')).toBe('m3u');
    expect(detectImportFormat('<?xml version="1.0"?>\n<DJ_PLAYLISTS>')).toBe('rekordbox');
    expect(detectImportFormat('<DJ_PLAYLISTS Version="1.0.0">')).toBe('rekordbox');
    expect(detectImportFormat('Artist,Title\nÂme,Rej')).toBe('csv');
    expect(detectImportFormat('"Track Name";"Artist Name"\nRej;Âme')).toBe('csv');
    expect(detectImportFormat('song\nÂme - Rej')).toBe('csv');
    expect(detectImportFormat('Âme - Rej\nTiësto - Adagio')).toBe('lines');
    expect(detectImportFormat('')).toBe('lines');
  });
});

describe('parseImport: lines', () => {
  it('strips numbering, timestamps and bullets, normalises dashes and reports bad lines', () => {
    const text = [
      '# my likes', // 1: comment
      '01. Âme - Rej', // 2
      '2) Röyksopp – Eple', // 3: en dash
      '[03] Tiësto — Adagio For Strings', // 4: em dash
      '[12:30] Bicep - Glue', // 5
      '1:02:03 Four Tet - Baby', // 6
      '- Daft Punk - One More Time', // 7: bullet
      '* Moby - Porcelain', // 8
      '• Kölsch - Grey', // 9
      '', // 10
      'just a title', // 11: problem
      '// another comment', // 12
      '1 - Love', // 13: "1" is kept as the artist
      '  Âme   -   Rej  ', // 14: duplicate, kept
      '12. [00:45] Floating Points - Silhouettes', // 15
    ].join('\r\n');
    const r = parseImport(text);
    expect(r.format).toBe('lines');
    expect(pairs(r)).toEqual([
      ['Âme', 'Rej'],
      ['Röyksopp', 'Eple'],
      ['Tiësto', 'Adagio For Strings'],
      ['Bicep', 'Glue'],
      ['Four Tet', 'Baby'],
      ['Daft Punk', 'One More Time'],
      ['Moby', 'Porcelain'],
      ['Kölsch', 'Grey'],
      ['1', 'Love'],
      ['Âme', 'Rej'],
      ['Floating Points', 'Silhouettes'],
    ]);
    expect(lines(r)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 13, 14, 15]);
    expect(r.entries[1].text).toBe('Röyksopp - Eple');
    expect(r.problems).toEqual([{ line: 11, message: 'expected "Artist - Title"', source: 'just a title' }]);
  });

  it('accepts \\r line ends and a BOM, and treats a titled numbered list header as a header', () => {
    const r = parseImport('\uFEFFMy Set - Live\r\r01. Âme - Rej\r02. Bicep - Glue\r');
    expect(pairs(r)).toEqual([
      ['Âme', 'Rej'],
      ['Bicep', 'Glue'],
    ]);
    expect(lines(r)).toEqual([3, 4]);
    expect(r.problems).toEqual([]);
    // Without the numbered list under it, a first line is an ordinary line.
    expect(pairs(parseImport('My Set - Live\n\nÂme - Rej'))).toEqual([
      ['My Set', 'Live'],
      ['Âme', 'Rej'],
    ]);
  });

  it('cuts a problem source to 200 characters, trimmed', () => {
    const r = parseImport(`   ${'x'.repeat(300)}   `);
    expect(r.problems[0].source).toBe('x'.repeat(200));
  });

  it(`stops after ${MAX_IMPORT_ENTRIES} songs with one problem where it stopped`, () => {
    const text = Array.from({ length: MAX_IMPORT_ENTRIES + 50 }, (_, i) => `Artist ${i} - Title ${i}`).join(
      '\n',
    );
    const r = parseImport(`# header\n${text}`);
    expect(r.entries).toHaveLength(MAX_IMPORT_ENTRIES);
    expect(r.entries.at(-1)?.text).toBe(`Artist ${MAX_IMPORT_ENTRIES - 1} - Title ${MAX_IMPORT_ENTRIES - 1}`);
    expect(r.problems).toEqual([
      {
        line: MAX_IMPORT_ENTRIES + 2,
        message: 'file has more than 5000 songs; the rest were not read',
        source: '',
      },
    ]);
  });
});

describe('parseImport: m3u', () => {
  it('reads #EXTINF titles, consumes their locations and names bare locations by file', () => {
    const text = [
      '#EXTM3U', // 1
      '#PLAYLIST:Friday', // 2
      '#EXTINF:312,Âme - Rej', // 3
      '/music/whatever.mp3', // 4: consumed
      '#EXTINF:-1 tvg-name="a,b" group-title="x",Röyksopp - Eple', // 5: comma inside an attribute
      'C:\\Music\\eple.flac', // 6
      '/music/Tiësto - Adagio For Strings.mp3', // 7: bare location
      'file:///home/dj/Bicep%20-%20Glue.m4a', // 8
      'https://example.com/a/Four%20Tet%20-%20Baby.mp3?token=1#t', // 9
      '#EXTINF:200,Only A Title', // 10: problem, location has no artist either
      'only-a-title.mp3', // 11
      '#EXTINF:200,Untitled', // 12: the location names it
      '/music/Moby - Porcelain.wav', // 13
      '#EXTVLCOPT:network-caching=1000', // 14
      'Kölsch - Grey', // 15: bare location without extension
      '/music/notes.txt', // 16: problem
    ].join('\n');
    const r = parseImport(text, { fileName: 'friday.m3u8' });
    expect(r.format).toBe('m3u');
    expect(pairs(r)).toEqual([
      ['Âme', 'Rej'],
      ['Röyksopp', 'Eple'],
      ['Tiësto', 'Adagio For Strings'],
      ['Bicep', 'Glue'],
      ['Four Tet', 'Baby'],
      ['Moby', 'Porcelain'],
      ['Kölsch', 'Grey'],
    ]);
    expect(lines(r)).toEqual([3, 5, 7, 8, 9, 12, 15]);
    expect(r.problems.map((p) => [p.line, p.message])).toEqual([
      [10, 'expected "Artist - Title" after #EXTINF:'],
      [16, 'expected "Artist - Title"'],
    ]);
    expect(r.problems[0].source).toBe('#EXTINF:200,Only A Title');
  });

  it('makes an entry of an #EXTINF with no location after it', () => {
    const r = parseImport('#EXTM3U\n#EXTINF:-1,Âme - Rej\n#EXTINF:-1,Bicep - Glue\n');
    expect(pairs(r)).toEqual([
      ['Âme', 'Rej'],
      ['Bicep', 'Glue'],
    ]);
    expect(lines(r)).toEqual([2, 3]);
  });
});

describe('parseImport: csv', () => {
  it('reads artist and title columns with RFC 4180 quoting and reports rows missing either', () => {
    const text = [
      'Position,Title,Artist,Album', // 1
      '1,Rej,Âme,Rej EP', // 2
      '2,"Adagio, For Strings","Tiësto",', // 3
      '3,"Say ""Hi""","Smith ""DJ"" Jones",x', // 4
      '4,"Multi', // 5: a record over three physical lines
      'Line","Röyksopp",', // 6
      ',,', // 7: blank record
      '5,Glue,,', // 8: no artist
      '6,,Bicep,', // 9: no title
      "7,'-Minus,'=Equals,", // 10: our export's formula guard, read back
    ].join('\r\n');
    const r = parseImport(text, { fileName: 'likes.csv' });
    expect(r.format).toBe('csv');
    expect(pairs(r)).toEqual([
      ['Âme', 'Rej'],
      ['Tiësto', 'Adagio, For Strings'],
      ['Smith "DJ" Jones', 'Say "Hi"'],
      ['Röyksopp', 'Multi Line'],
      ['=Equals', '-Minus'],
    ]);
    expect(lines(r)).toEqual([2, 3, 4, 5, 10]);
    expect(r.problems).toEqual([
      { line: 8, message: 'missing artist (column "Artist")', source: '5,Glue,,' },
      { line: 9, message: 'missing title (column "Title")', source: '6,,Bicep,' },
    ]);
  });

  it('detects ; and tab delimiters (Rekordbox .txt export) and single-column lists', () => {
    const semi = parseImport('"Track Name";"Artist Name(s)"\nEple;Röyksopp\nRej;"Âme; Dixon"\n');
    expect(pairs(semi)).toEqual([
      ['Röyksopp', 'Eple'],
      ['Âme; Dixon', 'Rej'],
    ]);
    const rekordbox = parseImport(
      '#\tArtwork\tTrack Title\tArtist\tBPM\n1\t\tRej\tÂme\t122.00\n2\t\tEple\t\t110.00\n',
      { fileName: 'My list.txt' },
    );
    expect(rekordbox.format).toBe('csv');
    expect(pairs(rekordbox)).toEqual([['Âme', 'Rej']]);
    expect(rekordbox.problems.map((p) => [p.line, p.message])).toEqual([
      [3, 'missing artist (column "Artist")'],
    ]);
    const single = parseImport('Song\nÂme - Rej\nno separator\n"Tyler, The Creator - See You Again"\n', {
      format: 'csv',
    });
    expect(pairs(single)).toEqual([
      ['Âme', 'Rej'],
      ['Tyler, The Creator', 'See You Again'],
    ]);
    expect(single.problems.map((p) => p.line)).toEqual([3]);
  });

  it('reads headerless files: one "Artist - Title" column or artist, title pairs', () => {
    const r = parseImport('Âme - Rej,5:20\nTyler, The Creator - See You Again\nBicep,Glue\nlonely\n', {
      fileName: 'x.csv',
    });
    expect(pairs(r)).toEqual([
      ['Âme', 'Rej'],
      ['Tyler, The Creator', 'See You Again'],
      ['Bicep', 'Glue'],
    ]);
    expect(r.problems.map((p) => p.line)).toEqual([4]);
  });

  it('reports an unterminated quoted field at the line it opens', () => {
    const r = parseImport('artist,title\nÂme,Rej\nBicep,"Glue\nMoby,Porcelain\n');
    expect(pairs(r)).toEqual([['Âme', 'Rej']]);
    expect(r.problems).toEqual([
      {
        line: 3,
        message: 'unterminated quoted field; the rest of the file was not read',
        source: 'Bicep,"Glue\nMoby,Porcelain',
      },
    ]);
  });

  it('decodes UTF-16 that was read byte by byte, and asks for UTF-8 when it cannot', () => {
    const utf16le = (s: string): string =>
      '\u00FF\u00FE' +
      [...s].map((c) => String.fromCharCode(c.charCodeAt(0) & 0xff, c.charCodeAt(0) >> 8)).join('');
    const exported = '#\tTrack Title\tArtist\r\n1\tEple\tRöyksopp\r\n2\tAdagio\tTiësto\r\n';
    const r = parseImport(utf16le(exported), { fileName: 'rb.txt' });
    expect(r.format).toBe('csv');
    expect(pairs(r)).toEqual([
      ['Röyksopp', 'Eple'],
      ['Tiësto', 'Adagio'],
    ]);
    // The same file through a UTF-8 decoder: the BOM and "ö" became U+FFFD, so bytes are lost.
    const lossy = utf16le(exported)
      .replace('\u00FF\u00FE', '\uFFFD\uFFFD')
      .replace(/[\u0080-\u00FF]/g, '\uFFFD');
    const bad = parseImport(lossy, { fileName: 'rb.txt' });
    expect(bad.entries).toEqual([]);
    expect(bad.problems).toHaveLength(1);
    expect(bad.problems[0].line).toBe(1);
    expect(bad.problems[0].message).toMatch(/UTF-16.*save it as UTF-8/);
  });
});

describe('parseImport: rekordbox', () => {
  const xml = (body: string): string =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<DJ_PLAYLISTS Version="1.0.0">\n  <PRODUCT Name="rekordbox" Version="6.8.2" Company="AlphaTheta"/>\n${body}</DJ_PLAYLISTS>\n`;

  it('reads COLLECTION tracks with entities, in the first playlist order, reporting missing attributes', () => {
    const text = xml(
      [
        '  <COLLECTION Entries="5">', // 4
        '    <TRACK TrackID="11" Name="Rej" Artist="&#xC2;me &amp; Dixon" Kind="MP3 File"', // 5
        '           Location="file://localhost/Music/rej.mp3">', // 6
        '      <TEMPO Inizio="0.025" Bpm="122.00" Metro="4/4" Battito="1"/>', // 7
        '    </TRACK>', // 8
        "    <TRACK TrackID='12' Name='Eple &lt;Live&gt;' Artist='R&#246;yksopp'/>", // 9
        '    <TRACK TrackID="13" Name="Adagio" Artist=""/>', // 10: empty Artist
        '    <!-- <TRACK TrackID="99" Name="Commented" Artist="Out"/> -->', // 11
        '    <TRACK TrackID="14" Name="&quot;Hi&quot; It&apos;s Me" Artist="Smith"/>', // 12
        '    <TRACK TrackID="15" Artist="Moby"/>', // 13: no Name
        '  </COLLECTION>', // 14
        '  <PLAYLISTS>', // 15
        '    <NODE Type="0" Name="ROOT" Count="1">', // 16
        '      <NODE Name="My list" Type="1" KeyType="0" Entries="3">', // 17
        '        <TRACK Key="12"/>', // 18
        '        <TRACK Key="11"/>', // 19
        '        <TRACK Key="77"/>', // 20: not in the collection
        '      </NODE>', // 21
        '      <NODE Name="Second" Type="1" KeyType="0" Entries="1"><TRACK Key="14"/></NODE>', // 22
        '    </NODE>', // 23
        '  </PLAYLISTS>', // 24
        '',
      ].join('\n'),
    );
    const r = parseImport(text, { fileName: 'rekordbox.xml' });
    expect(r.format).toBe('rekordbox');
    // Playlist order first (12, 11), then the collection tracks it does not list, in collection order.
    expect(pairs(r)).toEqual([
      ['Röyksopp', 'Eple <Live>'],
      ['Âme & Dixon', 'Rej'],
      ['Smith', '"Hi" It\'s Me'],
    ]);
    expect(lines(r)).toEqual([9, 5, 12]);
    expect(r.problems.map((p) => [p.line, p.message])).toEqual([
      [10, '<TRACK> has no Artist'],
      [13, '<TRACK> has no Name'],
      [20, 'playlist track Key="77" is not in the <COLLECTION>'],
    ]);
    expect(r.problems[0].source).toBe('<TRACK TrackID="13" Name="Adagio" Artist=""/>');
  });

  it('keeps collection order without a playlist and keeps the tracks before an unterminated tag', () => {
    const text = xml(
      [
        '<COLLECTION Entries="3">', // 4
        '<TRACK TrackID="1" Name="Glue" Artist="Bicep"/>', // 5
        '<TRACK TrackID="2" Name="Glue" Artist="Bicep"/>', // 6: duplicate, kept
        '<TRACK TrackID="3" Name="Baby" Artist="Four Tet"', // 7: never closed
        '<TRACK TrackID="4" Name="Porcelain" Artist="Moby"/>', // 8
        '</COLLECTION>',
        '',
      ].join('\n'),
    );
    const r = parseImport(text);
    expect(pairs(r)).toEqual([
      ['Bicep', 'Glue'],
      ['Bicep', 'Glue'],
    ]);
    expect(r.problems.map((p) => [p.line, p.message])).toEqual([
      [7, 'unterminated <TRACK> tag; the tracks after it were not read'],
    ]);
  });

  it('reports a file without a COLLECTION once, at line 1', () => {
    const r = parseImport('<?xml version="1.0"?>\n<plist><dict/></plist>\n', { fileName: 'iTunes.xml' });
    expect(r).toEqual({
      format: 'rekordbox',
      entries: [],
      problems: [
        {
          line: 1,
          message: 'not a Rekordbox collection export: no <COLLECTION> element',
          source: '<?xml version="1.0"?>',
        },
      ],
    });
  });
});

describe('round trips through the export formats', () => {
  const names = [
    'Âme - Rej',
    'Röyksopp & Robyn - Do It Again',
    'Tiësto - Adagio For Strings (Original Mix)',
    'Smith, Jones - Say "Hi", Again',
    '=Formula - -Minus',
    'AC/DC - Back In Black',
    'Mura Masa — Someday Somewhere - Firefly (feat. Nao)',
    'Sango – Nightz',
    '#1 Fan - Song',
  ];

  it.each(['m3u8', 'csv', 'txt'] as const)('%s gives back the same artists and titles', (format) => {
    const file = exportTracklist({ name: 'Round - Trip (likes)', songs: songs(names) }, format);
    const r = parseImport(file.body, { fileName: file.filename });
    expect(r.problems).toEqual([]);
    expect(pairs(r)).toEqual(names.map((n) => Object.values(splitArtistTitle(n))));
  });

  it('m3u8 and txt exports of real DJ sets import back track for track', () => {
    const sets = readFileSync(join(teamFolder(), 'realsets', 'tracklists.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(0, 8)
      .map((l) => JSON.parse(l) as { title?: string; tracks: string[] });
    let checked = 0;
    for (const set of sets) {
      const tracks = set.tracks.filter((t) => parseTrack(t).kind === 'song' && !/^ID - ID$/i.test(t));
      const expected = tracks.map((t) => {
        const { artist, title } = splitArtistTitle(t);
        return [artist.replace(/\s+/g, ' '), title.replace(/\s+/g, ' ')];
      });
      for (const format of ['m3u8', 'txt'] as const) {
        const file = exportTracklist({ name: set.title ?? null, songs: songs(tracks) }, format);
        const r = parseImport(file.body, { fileName: file.filename });
        expect(r.problems, `${format} ${set.title}`).toEqual([]);
        expect(pairs(r), `${format} ${set.title}`).toEqual(expected);
      }
      checked += tracks.length;
    }
    expect(checked).toBeGreaterThan(200);
  });
});
