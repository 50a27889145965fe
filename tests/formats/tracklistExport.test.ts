import { describe, expect, it } from 'vitest';
import {
  EXPORT_FORMATS,
  exportTracklist,
  splitArtistTitle,
  type ExportableTracklist,
  type ExportSong,
} from '../../shared/formats/tracklistExport.ts';

const song = (id: string, name: string, extra: Partial<ExportSong> = {}): ExportSong => ({
  id,
  name,
  artists: [],
  ...extra,
});

const SET: ExportableTracklist = {
  name: 'Âme - Rej (Röyksopp)',
  modelVersion: 'v-1',
  createdAt: '2024-05-01T10:00:00.000Z',
  songs: [
    song('s1', 'Âme - Rej', {
      artists: [{ id: 'a1', name: 'Âme' }],
      userScore: 0.5,
      songScore: 1,
      logProb: { l3: 0, l2: Math.log(0.5), l1: Math.log(0.25), song: Math.log(0.12345) },
    }),
    song('s2', 'Röyksopp & Robyn - Do It Again', { userScore: 0.25, songScore: 0.123456 }),
    song('s3', 'Tiësto - Adagio For Strings'),
  ],
};

describe('splitArtistTitle', () => {
  it('splits on the first " - " and never throws', () => {
    expect(splitArtistTitle('Âme - Rej')).toEqual({ artist: 'Âme', title: 'Rej' });
    expect(splitArtistTitle('A - B - C (D Remix)')).toEqual({ artist: 'A', title: 'B - C (D Remix)' });
    expect(splitArtistTitle('Untitled')).toEqual({ artist: '', title: 'Untitled' });
    expect(splitArtistTitle('A-ha - Take On Me')).toEqual({ artist: 'A-ha', title: 'Take On Me' });
    // " - " wins over an earlier em dash (Soulection's "Artist — Album - Title").
    expect(splitArtistTitle('Mura Masa — Someday - Firefly')).toEqual({
      artist: 'Mura Masa — Someday',
      title: 'Firefly',
    });
    expect(splitArtistTitle('Sango – Nightz')).toEqual({ artist: 'Sango', title: 'Nightz' });
    expect(splitArtistTitle('')).toEqual({ artist: '', title: '' });
    expect(splitArtistTitle(undefined as unknown as string)).toEqual({ artist: '', title: '' });
  });
});

describe('exportTracklist', () => {
  it('writes an M3U8 playlist with safe location lines', () => {
    const f = exportTracklist(
      {
        name: 'Night',
        songs: [
          song('s1', 'AC/DC - Back In Black'),
          song('s2', 'Âme - Rej'),
          song('s3', '#1 Fan - What? (Edit).'),
          song('s4', 'Bad\nName - Line\tBreak'),
        ],
      },
      'm3u8',
    );
    expect(f.body).toBe(
      [
        '#EXTM3U',
        '#PLAYLIST:Night',
        '#EXTINF:-1,AC/DC - Back In Black',
        'AC DC - Back In Black',
        '#EXTINF:-1,Âme - Rej',
        'Âme - Rej',
        '#EXTINF:-1,#1 Fan - What? (Edit).',
        './#1 Fan - What (Edit)',
        '#EXTINF:-1,Bad Name - Line Break',
        'Bad Name - Line Break',
        '',
      ].join('\n'),
    );
    expect(f).toMatchObject({
      contentType: 'audio/x-mpegurl; charset=utf-8',
      extension: 'm3u8',
      filename: 'night.m3u8',
    });
    expect(exportTracklist({ name: null, songs: [] }, 'm3u8').body).toBe('#EXTM3U\n');
  });

  it('writes an RFC 4180 CSV with probabilities, quoting and formula guards', () => {
    const f = exportTracklist(
      {
        name: null,
        songs: [
          ...SET.songs,
          song('s4', 'Smith, Jones - Say "Hi"'),
          song('s5', '=HYPERLINK("x") - -Minus'),
          song('s6', 'Multi\nLine - Title'),
          song('s7', 'No Separator'),
          song('@id', '+Plus - @At'),
        ],
      },
      'csv',
    );
    expect(f.body.split('\r\n')).toEqual([
      'position,artist,title,song_id,user_score,seed_score,p_l3,p_l2,p_l1,p_song',
      '1,Âme,Rej,s1,0.5000,1.0000,1.0000,0.5000,0.2500,0.1235',
      '2,Röyksopp & Robyn,Do It Again,s2,0.2500,0.1235,,,,',
      '3,Tiësto,Adagio For Strings,s3,,,,,,',
      '4,"Smith, Jones","Say ""Hi""",s4,,,,,,',
      `5,"'=HYPERLINK(""x"")",'-Minus,s5,,,,,,`,
      '6,"Multi\nLine",Title,s6,,,,,,',
      '7,,No Separator,s7,,,,,,',
      "8,'+Plus,'@At,'@id,,,,,,",
      '',
    ]);
    expect(f.contentType).toBe('text/csv; charset=utf-8');
    expect(f.filename).toBe('tracklist.csv');
  });

  it('writes a numbered text list, padded to 3 digits past 99 songs', () => {
    expect(exportTracklist(SET, 'txt').body).toBe(
      'Âme - Rej (Röyksopp)\n\n01. Âme - Rej\n02. Röyksopp & Robyn - Do It Again\n03. Tiësto - Adagio For Strings\n',
    );
    const many = Array.from({ length: 100 }, (_, i) => song(`s${i}`, `A${i} - T${i}`));
    const lines = exportTracklist({ name: null, songs: many }, 'txt').body.split('\n');
    expect(lines[0]).toBe('001. A0 - T0');
    expect(lines[99]).toBe('100. A99 - T99');
    expect(lines).toHaveLength(101);
    expect(exportTracklist({ name: '', songs: many.slice(0, 9) }, 'txt').body.split('\n')[0]).toBe(
      '01. A0 - T0',
    );
  });

  it('writes pretty JSON with nulls for absent values', () => {
    const f = exportTracklist(SET, 'json');
    expect(f.body.startsWith('{\n  "name": "Âme - Rej (Röyksopp)",\n  "model": "v-1",\n')).toBe(true);
    expect(f.body.endsWith('}\n')).toBe(true);
    const doc = JSON.parse(f.body);
    expect(doc.createdAt).toBe('2024-05-01T10:00:00.000Z');
    expect(doc.songs[0]).toEqual({
      position: 1,
      id: 's1',
      name: 'Âme - Rej',
      artist: 'Âme',
      title: 'Rej',
      artists: [{ id: 'a1', name: 'Âme' }],
      userScore: 0.5,
      songScore: 1,
      probability: { l3: 1, l2: 0.5, l1: 0.25, song: expect.closeTo(0.12345, 10) },
    });
    expect(doc.songs[2]).toMatchObject({ position: 3, userScore: null, songScore: null, probability: null });
    expect(JSON.parse(exportTracklist({ name: null, songs: [] }, 'json').body)).toEqual({
      name: null,
      model: null,
      createdAt: null,
      songs: [],
    });
    expect(f.contentType).toBe('application/json; charset=utf-8');
  });

  it('names files by an ASCII slug of the name', () => {
    const name = (n: string | null): string => exportTracklist({ name: n, songs: [] }, 'txt').filename;
    expect(name('Tiësto - Adagio For Strings (Röyksopp)')).toBe('tiesto-adagio-for-strings-royksopp.txt');
    expect(name('Øya Festival: Mø / Ærø ß')).toBe('oya-festival-mo-aero-ss.txt');
    expect(name('日本語')).toBe('tracklist.txt');
    expect(name(null)).toBe('tracklist.txt');
    const long = name('a'.repeat(59) + ' b c');
    expect(long).toBe('a'.repeat(59) + '.txt');
    expect(name('x'.repeat(100)).length).toBe(60 + '.txt'.length);
    for (const format of EXPORT_FORMATS)
      expect(exportTracklist(SET, format).filename).toMatch(/^[a-z0-9-]+\.\w+$/);
  });

  it('rejects an unknown format from untyped callers', () => {
    expect(() => exportTracklist(SET, 'xls' as never)).toThrow(/unknown export format "xls"/);
  });
});
