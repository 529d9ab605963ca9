/** CSV for scenario variables (RFC 4180: a header row, commas, double quotes doubled inside quotes). Pure. */
export type CsvParse = { ok: true; header: string[]; rows: string[][] } | { ok: false; line: number; reason: string }

export const MAX_CSV_ROWS = 1_000_000

export function parseCsv(text: string): CsvParse {
  const records: string[][] = []
  let field = ''
  let record: string[] = []
  let line = 1
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0
  let quoted = false
  let quoteLine = 0
  let afterQuote = false
  const endRecord = () => {
    record.push(field)
    field = ''
    if (!(record.length === 1 && record[0] === '')) records.push(record)
    record = []
  }
  for (; i < text.length; i++) {
    const char = text[i]!
    if (quoted) {
      if (char === '"') {
        if (text[i + 1] === '"') {
          field += '"'
          i++
        } else {
          quoted = false
          afterQuote = true
        }
      } else {
        if (char === '\n') line++
        field += char
      }
      continue
    }
    if (afterQuote && char !== ',' && char !== '\n' && char !== '\r') return { ok: false, line, reason: 'text after a closing quote' }
    afterQuote = false
    if (char === '"') {
      if (field !== '') return { ok: false, line, reason: 'a quote inside an unquoted field; quote the whole field' }
      quoted = true
      quoteLine = line
    } else if (char === ',') {
      record.push(field)
      field = ''
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i++
      endRecord()
      line++
      if (records.length > MAX_CSV_ROWS) return { ok: false, line, reason: `more than ${MAX_CSV_ROWS} rows` }
    } else {
      field += char
    }
  }
  if (quoted) return { ok: false, line: quoteLine, reason: 'a quoted field is never closed' }
  if (field !== '' || record.length > 0) endRecord()
  const [header, ...rows] = records
  if (!header) return { ok: false, line: 1, reason: 'the file is empty; it needs a header row' }
  return { ok: true, header: header.map((name) => name.trim()), rows }
}
