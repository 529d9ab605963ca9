import type { LineBatch } from '../input.js'
import { RecordParser, originOf } from './records.js'

/** jsonlog (PostgreSQL 15+): one JSON object per line. */
export class JsonParser extends RecordParser {
  batch({ lines, firstLine }: LineBatch): void {
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!
      if (line.length === 0) continue
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch {
        this.skipUnreadable(line, 'invalid JSON', firstLine + i)
        continue
      }
      const entry = value as Record<string, unknown> | null
      if (!entry || typeof entry !== 'object' || typeof entry.error_severity !== 'string' || typeof entry.message !== 'string') {
        this.skipped.skip('not a jsonlog record', firstLine + i)
        continue
      }
      const text = (key: string) => (typeof entry[key] === 'string' && entry[key] !== '' ? (entry[key] as string) : undefined)
      const session = text('session_id') ?? (entry.pid !== undefined ? String(entry.pid) : '')
      const state = text('state_code')
      this.emit({
        atMs: typeof entry.timestamp === 'string' ? this.times.parse(entry.timestamp) : undefined,
        session,
        ...(typeof entry.pid === 'number' && Number.isSafeInteger(entry.pid) ? { pid: entry.pid } : {}),
        origin: originOf(text('user'), text('dbname'), text('application_name')),
        severity: entry.error_severity,
        message: entry.message,
        ...(text('detail') ? { detail: text('detail') } : {}),
        ...(text('statement') ? { statement: text('statement') } : {}),
        ...(state && state !== '00000' ? { sqlstate: state } : {}),
        line: firstLine + i,
      })
    }
  }
}
