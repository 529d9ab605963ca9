/**
 * Stack frames as text labels: `name (file:line:column)`, or a bare name when there is no source
 * location. One label format is shared by the folded files we write, the summaries and the diff,
 * so a folded file read back gives the same functions as the profile it came from. Pure.
 */
import { isAbsolute, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface FrameLocation {
  name: string
  file?: string
  /** 1-based. */
  line?: number
  /** 1-based. */
  column?: number
}

/** What kind of time a frame stands for. */
export type FrameKind = 'js' | 'native' | 'gc' | 'idle' | 'program' | 'root'

const SPECIAL: Record<string, FrameKind> = {
  '(garbage collector)': 'gc',
  '(idle)': 'idle',
  '(program)': 'program',
  '(root)': 'root',
}

export const ANONYMOUS = '(anonymous)'

/** `;` separates frames and a newline separates stacks in the folded format: neither may appear in a label. */
function clean(text: string): string {
  return text.replace(/[;\r\n]+/g, ',')
}

export function formatFrame(frame: FrameLocation): string {
  const name = clean(frame.name || ANONYMOUS)
  if (!frame.file) return name
  const position = frame.line !== undefined ? `:${frame.line}${frame.column !== undefined ? `:${frame.column}` : ''}` : ''
  return `${name} (${clean(frame.file)}${position})`
}

/** The inverse of formatFrame; a label without a `(file:line:column)` suffix is all name. */
export function parseFrame(label: string): FrameLocation {
  const open = label.lastIndexOf(' (')
  if (open <= 0 || !label.endsWith(')')) return { name: label }
  const inside = label.slice(open + 2, -1)
  const match = /^(.*?):(\d+)(?::(\d+))?$/.exec(inside)
  if (!match || !match[1]) return { name: label }
  return { name: label.slice(0, open), file: match[1], line: Number(match[2]), ...(match[3] ? { column: Number(match[3]) } : {}) }
}

export function frameKind(label: string): FrameKind {
  const special = SPECIAL[label]
  if (special) return special
  return parseFrame(label).file ? 'js' : 'native'
}

/** Idle, GC, (program) and the root are not functions: they are left out of "top functions" lists. */
export function isFunctionFrame(label: string): boolean {
  const kind = frameKind(label)
  return kind === 'js' || kind === 'native'
}

/**
 * A script URL as a short file name: `file://` URLs become paths, and paths under `baseDir` (the
 * target's working directory) become relative, so profiles from two checkouts compare frame by frame.
 */
export function displayFile(url: string, baseDir?: string): string {
  if (!url) return ''
  let path = url
  if (url.startsWith('file://')) {
    try {
      path = fileURLToPath(url)
    } catch {
      return url
    }
  }
  if (baseDir && isAbsolute(path)) {
    const inside = relative(baseDir, path)
    if (inside && !inside.startsWith('..') && !isAbsolute(inside)) return inside.split(sep).join('/')
  }
  return path
}

/**
 * The identity of a function across two profiles: name and file, without line and column (an
 * edit above a function moves it without making it another function). Anonymous functions keep
 * their line, or every callback in a file would be one function.
 */
export function functionKey(label: string): string {
  const frame = parseFrame(label)
  if (!frame.file) return frame.name
  if (frame.name === ANONYMOUS || frame.name === '')
    return formatFrame({ name: frame.name, file: frame.file, ...(frame.line !== undefined ? { line: frame.line } : {}) })
  return `${frame.name} (${frame.file})`
}

/** `name file:line` for tables. */
export function describeFrame(label: string): { name: string; location: string } {
  const frame = parseFrame(label)
  if (!frame.file) return { name: frame.name, location: '' }
  return { name: frame.name, location: frame.line !== undefined ? `${frame.file}:${frame.line}` : frame.file }
}
