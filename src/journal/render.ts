import { relative, isAbsolute } from 'node:path'
import { formatLocalTime, redactValue, type Palette } from '../core/index.js'
import type { AppendSummary } from './append.js'
import type { CopySummary } from './copy.js'
import type { JournalEvent } from './event.js'
import { summarizeEventData } from './kinds.js'
import type { Damage, VerifyReport } from './store.js'

const SUMMARY_WIDTH = 100

/** A one-line summary of an event's data, from its kind; compact JSON for other kinds. */
export function summarizeEvent(event: JournalEvent): string {
  const text = (summarizeEventData(event.kind, event.data) ?? (Object.keys(event.data).length === 0 ? '' : JSON.stringify(event.data)))
    .replace(/\s+/g, ' ')
    .trim()
  const links = Object.entries(event.links).map(([name, value]) => `${name}=${value}`)
  const line = links.length > 0 ? `${text} [${links.join(' ')}]`.trim() : text
  return line.length > SUMMARY_WIDTH ? `${line.slice(0, SUMMARY_WIDTH - 1)}…` : line
}

/** `2024-05-01 12:03:04 UTC  deploy.step  api  alice  step 2: 25% …`, in local time with its zone; redacted before it is worded. */
export function formatEvent(event: JournalEvent, colors: Palette): string {
  const safe = redactValue(event)
  const time = formatLocalTime(safe.time)
  return `${colors.dim(time)}  ${colors.cyan(safe.kind.padEnd(18))}  ${colors.bold(safe.subject.padEnd(12))}  ${safe.actor.padEnd(12)}  ${summarizeEvent(safe)}`.trimEnd()
}

/** One JSON line per event for --json (a stream, not one document: see docs/journal.md). */
export function formatEventJson(event: JournalEvent): string {
  return JSON.stringify(redactValue(event))
}

export function describeDamage(damage: Damage, cwd = process.cwd()): string {
  const where =
    isAbsolute(damage.location) && !relative(cwd, damage.location).startsWith('..') ? relative(cwd, damage.location) : damage.location
  const position = damage.line !== undefined ? `${where}:${damage.line}` : damage.id ? `${where} id ${damage.id}` : where
  return `${position}: ${damage.reason}`
}

export function renderVerifyReport(report: VerifyReport, colors: Palette): string {
  const what =
    report.store === 'files'
      ? `${report.units} segment file${report.units === 1 ? '' : 's'}, ${report.records} lines`
      : `${report.records} rows`
  const lines = [
    `${colors.bold('journal')}  ${report.location} (${what})`,
    `${report.events} intact events${report.duplicates ? `, ${report.duplicates} duplicate ids (listed once)` : ''}`,
  ]
  if (report.damaged.length === 0) lines.push(colors.green('No damage found.'))
  else {
    lines.push(colors.red(`${report.damaged.length} damaged:`))
    for (const damage of report.damaged) lines.push(`  ${describeDamage(damage)}`)
  }
  return lines.join('\n')
}

export function describeAppend(summary: AppendSummary): string {
  const skipped = summary.skipped ? ` (${summary.skipped} already there)` : ''
  const flushed = summary.durable ? '' : ' (journal.durable is false: not flushed to disk)'
  return `Appended ${summary.appended} event${summary.appended === 1 ? '' : 's'} to ${summary.location}${skipped}${flushed}.`
}

export function renderCopySummary(summary: CopySummary, colors: Palette): string {
  const damaged = summary.damaged
    ? colors.yellow(`, ${summary.damaged} damaged lines skipped (run opsctl journal verify on the source)`)
    : ''
  return `Copied ${summary.read} events from ${summary.from} to ${summary.to}: ${colors.bold(String(summary.appended))} new, ${summary.skipped} already there${damaged}.`
}

/**
 * Lines to a stream with back-pressure, batched; stops quietly when the reader goes away
 * (`opsctl journal | head`).
 */
export function createLineWriter(stream: NodeJS.WritableStream, onClosed?: () => void) {
  let buffer = ''
  let closed = false
  let scheduled = false
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error
    closed = true
    onClosed?.()
  })
  const flush = async () => {
    if (closed || buffer === '') return
    const text = buffer
    buffer = ''
    if (!stream.write(text))
      await new Promise<void>((resolve) => {
        const done = () => {
          stream.off('drain', done)
          stream.off('close', done)
          resolve()
        }
        stream.on('drain', done)
        stream.on('close', done)
      })
  }
  return {
    get closed() {
      return closed
    },
    async write(line: string): Promise<void> {
      buffer += `${line}\n`
      if (buffer.length >= 64 * 1024) await flush()
      // Whatever is buffered goes out as soon as the reader waits (--follow between events).
      else if (!scheduled) {
        scheduled = true
        setImmediate(() => {
          scheduled = false
          void flush()
        })
      }
    },
    flush,
  }
}
