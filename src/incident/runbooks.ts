/**
 * Runbooks on disk: the shipped ones in runbooks/, then each of runbooks.dirs (relative to
 * opsctl.yaml). A later directory overrides an earlier one for the same id. Files whose name
 * starts with `_` (the template) and README.md are not runbooks.
 */
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs'
import { dirname, isAbsolute, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { badInput, OpsError, ExitCode, verdict, type Settings, type Verdict } from '../core/index.js'
import { detectActor } from '../journal/index.js'
import {
  RUNBOOK_ID_PATTERN,
  findStep,
  formatProblem,
  parseRunbook,
  type Runbook,
  type RunbookProblem,
  type RunbookStep,
} from './runbook-format.js'

export const MAX_RUNBOOK_BYTES = 1024 * 1024
export const TEMPLATE_FILE = '_template.md'

export interface RunbookSource {
  dir: string
  origin: 'shipped' | 'configured'
}

export interface RunbookLibrary {
  sources: RunbookSource[]
  /** By id; configured directories override the shipped ones. */
  runbooks: Runbook[]
  /** Files that are not readable runbooks (fatal front matter problems), with file and line. */
  broken: RunbookProblem[]
  /** Runbooks replaced by one with the same id in a later directory. */
  overridden: Array<{ id: string; file: string; by: string }>
}

/** runbooks/ of the installed package: beside src/ in development, beside dist/ when built. */
export function shippedRunbooksDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'runbooks')
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) return candidate
    dir = dirname(dir)
  }
  return fileURLToPath(new URL('../../runbooks', import.meta.url))
}

export function runbookSources(settings: Settings): RunbookSource[] {
  const configured = settings.config.runbooks.dirs.map((dir) => {
    const path = isAbsolute(dir) ? dir : resolve(settings.rootDir, dir)
    if (!existsSync(path) || !statSync(path).isDirectory()) {
      throw badInput(
        `runbooks.dirs: ${dir} is not a directory (${path})`,
        `Create it (opsctl runbook new ID writes there), or remove it from ${settings.configPath ?? 'opsctl.yaml'}.`,
      )
    }
    return { dir: path, origin: 'configured' as const }
  })
  return [{ dir: shippedRunbooksDir(), origin: 'shipped' }, ...configured]
}

/** How a file is named in messages: relative to the working directory when it is below it. */
export function displayPath(file: string, cwd = process.cwd()): string {
  const rel = relative(cwd, file)
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file
}

export function runbookFilesIn(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.md$/i.test(entry.name) && !entry.name.startsWith('_') && !/^readme\.md$/i.test(entry.name))
    .map((entry) => join(dir, entry.name))
    .sort()
}

export function readRunbookFile(path: string): ReturnType<typeof parseRunbook> {
  const shown = displayPath(path)
  let size: number
  try {
    size = statSync(path).size
  } catch (error) {
    throw badInput(`Cannot read runbook ${shown}: ${(error as Error).message}`)
  }
  if (size > MAX_RUNBOOK_BYTES)
    return {
      problems: [{ file: shown, line: 1, message: `the file is ${size} bytes; a runbook is at most 1 MiB`, level: 'error', fatal: true }],
    }
  return parseRunbook(readFileSync(path, 'utf8'), shown)
}

export function loadRunbookLibrary(settings: Settings): RunbookLibrary {
  const sources = runbookSources(settings)
  const byId = new Map<string, Runbook>()
  const broken: RunbookProblem[] = []
  const overridden: RunbookLibrary['overridden'] = []
  for (const source of sources) {
    const seenHere = new Map<string, string>()
    for (const file of runbookFilesIn(source.dir)) {
      const parsed = readRunbookFile(file)
      const fatal = parsed.problems.filter((problem) => problem.fatal)
      if (!parsed.runbook || fatal.length) {
        broken.push(...fatal)
        continue
      }
      const runbook = parsed.runbook
      const twin = seenHere.get(runbook.id)
      if (twin) {
        broken.push({
          file: runbook.file,
          line: 2,
          message: `the id "${runbook.id}" is already used by ${twin} in the same directory`,
          level: 'error',
          fatal: true,
        })
        continue
      }
      seenHere.set(runbook.id, runbook.file)
      const previous = byId.get(runbook.id)
      if (previous) overridden.push({ id: runbook.id, file: previous.file, by: runbook.file })
      byId.set(runbook.id, runbook)
    }
  }
  const runbooks = [...byId.values()].sort((a, b) => a.id.localeCompare(b.id))
  return { sources, runbooks, broken, overridden }
}

/** A runbook by id; a broken file of that name is reported with its file and line (exit 2). */
export function findRunbook(library: RunbookLibrary, id: string): Runbook {
  const wanted = id.trim().toLowerCase()
  const found = library.runbooks.find((runbook) => runbook.id === wanted)
  if (found) return found
  const broken = library.broken.filter((problem) => problem.file.split(/[\\/]/).pop()!.replace(/\.md$/i, '').toLowerCase() === wanted)
  if (broken.length) throw brokenRunbookError(broken)
  const known = library.runbooks.map((runbook) => runbook.id)
  throw badInput(
    `No runbook "${id}"`,
    known.length ? `Known runbooks: ${known.join(', ')} (opsctl runbook list).` : 'Add one with opsctl runbook new ID.',
  )
}

export function findRunbookStep(runbook: Runbook, ref: string): RunbookStep {
  const step = findStep(runbook, ref)
  if (step) return step
  const steps = runbook.steps.map((candidate) => `${candidate.number} ${candidate.name}`)
  throw badInput(
    `Runbook ${runbook.id} has no step "${ref}"`,
    steps.length
      ? `Give a number or a name: ${steps.join(', ')} (opsctl runbook show ${runbook.id}).`
      : `${runbook.file} has no runnable steps.`,
  )
}

export function brokenRunbookError(problems: readonly RunbookProblem[]): OpsError {
  return new OpsError(problems.map(formatProblem).join('\n'), {
    exit: ExitCode.BadInput,
    hint: problems.find((problem) => problem.hint)?.hint ?? 'Fix the runbook file at that line.',
  })
}

// --- lint ------------------------------------------------------------------------------------

export interface LintedFile {
  file: string
  id?: string
  problems: RunbookProblem[]
}

export interface LintReport {
  files: LintedFile[]
  errors: number
  warnings: number
  /** Files that are not readable runbooks at all (exit 2). */
  unreadable: number
}

/** The given files, or every runbook the configuration knows (shipped and configured, overridden ones too). */
export function lintRunbooks(settings: Settings | undefined, files: readonly string[]): LintReport {
  let paths: string[]
  if (files.length > 0) {
    paths = files.map((file) => {
      const path = resolve(file)
      if (!existsSync(path))
        throw badInput(`No such file: ${file}`, 'Give runbook Markdown files, or no files to lint every configured runbook.')
      return path
    })
  } else {
    if (!settings) throw badInput('Nothing to lint')
    paths = runbookSources(settings).flatMap((source) => runbookFilesIn(source.dir))
  }
  const report: LintReport = { files: [], errors: 0, warnings: 0, unreadable: 0 }
  const ids = new Map<string, string>()
  for (const path of paths) {
    const parsed = readRunbookFile(path)
    const problems = [...parsed.problems]
    if (parsed.runbook) {
      const dir = dirname(path)
      const key = `${dir}\u0000${parsed.runbook.id}`
      const twin = ids.get(key)
      if (twin)
        problems.push({
          file: parsed.runbook.file,
          line: 2,
          message: `the id "${parsed.runbook.id}" is already used by ${twin}`,
          level: 'error',
          fatal: false,
        })
      else ids.set(key, parsed.runbook.file)
    }
    if (problems.some((problem) => problem.fatal)) report.unreadable++
    report.errors += problems.filter((problem) => problem.level === 'error').length
    report.warnings += problems.filter((problem) => problem.level === 'warning').length
    report.files.push({ file: displayPath(path), ...(parsed.runbook ? { id: parsed.runbook.id } : {}), problems })
  }
  return report
}

/**
 * Rules broken fail the lint (exit 1); warnings do not. A file that is not a readable runbook is
 * bad input rather than a failed check: the command says so with exit 2 (brokenRunbookError).
 */
export function lintVerdict(report: LintReport): Verdict {
  if (report.errors === 0) return verdict('pass')
  const failing = report.files.filter((file) => file.problems.some((problem) => problem.level === 'error'))
  return verdict('fail', [`${report.errors} error${report.errors === 1 ? '' : 's'} in ${failing.map((file) => file.file).join(', ')}`], {
    hint: 'Fix each file:line above; docs/incidents.md has the format.',
  })
}

/** A library with files that are not readable runbooks fails (the readable ones are still listed and usable). */
export function libraryVerdict(library: RunbookLibrary): Verdict {
  if (library.broken.length === 0) return verdict('pass')
  return verdict('fail', library.broken.map(formatProblem), {
    hint: library.broken.find((problem) => problem.hint)?.hint ?? 'Fix the runbook file at that line (opsctl runbook lint FILE).',
  })
}

/** The problems of the files that are not readable runbooks at all. */
export function unreadableProblems(report: LintReport): RunbookProblem[] {
  return report.files.flatMap((file) => file.problems.filter((problem) => problem.fatal))
}

// --- new -------------------------------------------------------------------------------------

export interface ScaffoldRequest {
  id: string
  title?: string
  owner?: string
  /** Target directory; default the first of runbooks.dirs, else runbooks/ beside opsctl.yaml. */
  dir?: string
  force?: boolean
}

export function scaffoldRunbook(
  settings: Settings,
  request: ScaffoldRequest,
  env: NodeJS.ProcessEnv = process.env,
): { file: string; id: string } {
  const id = request.id.trim()
  if (!RUNBOOK_ID_PATTERN.test(id))
    throw badInput(`Invalid runbook id "${request.id}"`, 'Use lowercase letters, digits and -, e.g. queue-backlog.')
  const first = settings.config.runbooks.dirs[0]
  const dir = request.dir ? resolve(request.dir) : first ? resolve(settings.rootDir, first) : join(settings.rootDir, 'runbooks')
  const file = join(dir, `${id}.md`)
  if (existsSync(file) && !request.force)
    throw badInput(`${displayPath(file)} already exists`, 'Edit it, pick another id, or pass --force to overwrite it.')
  const template = readFileSync(join(shippedRunbooksDir(), TEMPLATE_FILE), 'utf8')
  const title = request.title?.trim() || id.replace(/-/g, ' ').replace(/^./, (char) => char.toUpperCase())
  const owner = request.owner?.trim() || detectActor(env)
  const text = template
    .replaceAll('"{{id}}"', id)
    .replaceAll('"{{title}}"', JSON.stringify(title))
    .replaceAll('{{heading}}', title.replace(/[\r\n]+/g, ' '))
    .replaceAll('"{{owner}}"', JSON.stringify(owner))
  mkdirSync(dir, { recursive: true })
  writeFileSync(file, text, { flag: request.force ? 'w' : 'wx' })
  return { file: displayPath(file), id }
}
