/**
 * RFC 4180 records for the playlist import: quoted fields may hold delimiters, doubled quotes and
 * newlines; each record keeps the line number of its first physical line. Input has "\n" line
 * ends only (the caller normalises them).
 */

export const CSV_DELIMITERS = [',', ';', '\t'] as const;
export type CsvDelimiter = (typeof CSV_DELIMITERS)[number];

export interface CsvRecord {
  /** 1-based line of the record's first physical line. */
  line: number;
  fields: string[];
  /** The record's text as it appears in the file. */
  raw: string;
  /** A quoted field opened here never closes: the rest of the file went into it. */
  unterminated: boolean;
}

/** The delimiter seen most often outside quotes in one line; a tab wins ties (Rekordbox .txt). */
export function detectDelimiter(line: string): CsvDelimiter {
  const counts: Record<CsvDelimiter, number> = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === ',' || ch === ';' || ch === '\t')) counts[ch]++;
  }
  if (counts['\t'] > 0 && counts['\t'] >= counts[','] && counts['\t'] >= counts[';']) return '\t';
  return counts[';'] > counts[','] ? ';' : ',';
}

/** The records of `text`, lazily, so a caller that stops early does not parse the rest. */
export function* csvRecords(text: string, delimiter: CsvDelimiter): Generator<CsvRecord> {
  let i = 0;
  let line = 1;
  while (i < text.length) {
    const start = i;
    const startLine = line;
    const fields: string[] = [];
    let field = '';
    let quoted = false;
    let fieldStart = true;
    while (i < text.length) {
      const ch = text[i];
      if (quoted) {
        if (ch === '"' && text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        if (ch === '"') quoted = false;
        else {
          if (ch === '\n') line++;
          field += ch;
        }
      } else if (ch === '"' && fieldStart) {
        quoted = true;
        fieldStart = false;
      } else if (ch === delimiter) {
        fields.push(field);
        field = '';
        fieldStart = true;
      } else if (ch === '\n') {
        break;
      } else {
        // A quote inside an unquoted field is kept as text, as spreadsheets do.
        field += ch;
        fieldStart = false;
      }
      i++;
    }
    fields.push(field);
    yield { line: startLine, fields, raw: text.slice(start, i), unterminated: quoted };
    // Skip the "\n" that ended the record.
    i++;
    line++;
  }
}
