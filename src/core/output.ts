/**
 * Terminal presentation: colors and progress only on a TTY, never with CI or NO_COLOR set.
 * Everything here returns strings; writing them is the caller's business.
 */
export interface TerminalStream {
  isTTY?: boolean
  columns?: number
  write(chunk: string): boolean
}

export function isInteractive(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(stream.isTTY) && !env.CI && env.NO_COLOR === undefined && env.TERM !== 'dumb'
}

export interface Palette {
  bold(text: string): string
  dim(text: string): string
  red(text: string): string
  green(text: string): string
  yellow(text: string): string
  cyan(text: string): string
}

const plain: Palette = { bold: String, dim: String, red: String, green: String, yellow: String, cyan: String }
const ansi = (open: number, close: number) => (text: string) => `\u001B[${open}m${text}\u001B[${close}m`
const colored: Palette = {
  bold: ansi(1, 22),
  dim: ansi(2, 22),
  red: ansi(31, 39),
  green: ansi(32, 39),
  yellow: ansi(33, 39),
  cyan: ansi(36, 39),
}

export function palette(enabled: boolean): Palette {
  return enabled ? colored : plain
}

export function stripAnsi(text: string): string {
  return text.replace(/\u001B\[[0-9;]*m/g, '')
}

export interface Column<Row> {
  header: string
  value(row: Row): string | number
  align?: 'left' | 'right'
}

/** A plain aligned table; numbers right-aligned by default. */
export function renderTable<Row>(rows: Row[], columns: Array<Column<Row>>): string {
  const cells = rows.map((row) => columns.map((column) => String(column.value(row))))
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((line) => stripAnsi(line[i]!).length)))
  const aligned = (text: string, i: number, numeric: boolean) => {
    const pad = ' '.repeat(Math.max(0, widths[i]! - stripAnsi(text).length))
    const right = columns[i]!.align ? columns[i]!.align === 'right' : numeric
    return right ? pad + text : text + pad
  }
  const numeric = columns.map((column) => rows.length > 0 && typeof column.value(rows[0]!) === 'number')
  const header = columns.map((column, i) => aligned(column.header, i, numeric[i]!)).join('  ')
  const body = cells.map((line, r) =>
    line
      .map((text, i) => aligned(text, i, typeof columns[i]!.value(rows[r]!) === 'number'))
      .join('  ')
      .trimEnd(),
  )
  return [header.trimEnd(), ...body].join('\n')
}

const SPARK = '▁▂▃▄▅▆▇█'

/** A one-line sparkline of a series, for latencies and rates in a terminal. */
export function sparkline(values: number[]): string {
  if (values.length === 0) return ''
  const min = Math.min(...values)
  const max = Math.max(...values)
  const span = max - min || 1
  return values.map((value) => SPARK[Math.min(SPARK.length - 1, Math.floor(((value - min) / span) * SPARK.length))]).join('')
}

export interface Progress {
  update(done: number, detail?: string): void
  done(): void
}

/** A progress bar on stderr, drawn only when the stream is interactive; otherwise a no-op. */
export function createProgress(
  label: string,
  total: number,
  stream: TerminalStream = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Progress {
  if (!isInteractive(stream, env)) return { update() {}, done() {} }
  let lastDraw = 0
  const draw = (done: number, detail = '') => {
    const width = 24
    const share = total > 0 ? Math.min(1, done / total) : 0
    const filled = Math.round(share * width)
    stream.write(
      `\r${label} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}% ${detail}\u001B[K`,
    )
  }
  return {
    update(done, detail) {
      const now = Date.now()
      if (now - lastDraw < 100 && done < total) return
      lastDraw = now
      draw(done, detail)
    },
    done() {
      stream.write('\r\u001B[K')
    },
  }
}

/** One report of progress on a piece of long work, from a module to whoever shows it. */
export interface ProgressUpdate {
  /** What is being done ("Reading", "load #2"): one bar per task. */
  task: string
  done: number
  total: number
  detail?: string
  /** The task is over: its bar is cleared. */
  finished?: boolean
}

/** Modules report progress through this and draw nothing themselves; commands and the dashboard show it. */
export type ProgressListener = (update: ProgressUpdate) => void

/** A listener that draws one bar per task on an interactive stream; on a pipe, in CI or with NO_COLOR, nothing. */
export function progressBar(stream: TerminalStream = process.stderr, env: NodeJS.ProcessEnv = process.env): ProgressListener {
  if (!isInteractive(stream, env)) return () => {}
  const bars = new Map<string, Progress>()
  return (update) => {
    let bar = bars.get(update.task)
    if (!bar) {
      bar = createProgress(update.task, update.total, stream, env)
      bars.set(update.task, bar)
    }
    if (update.finished) {
      bar.done()
      bars.delete(update.task)
    } else bar.update(update.done, update.detail)
  }
}
