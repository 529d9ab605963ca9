/**
 * Runbooks are Markdown with YAML front matter. This is the pure reader: text in, the runbook
 * and every problem (file:line) out. Problems in the front matter are fatal (the file is not a
 * runbook: exit 2); the rest are what `runbook lint` checks.
 *
 * Steps are fenced shell blocks named in the info string: ```sh step=check-p99
 */
import { z } from 'zod'
import { describeSchemaIssues, isOpsError, parseYamlText, type LocatedYaml } from '../core/index.js'
import { SEVERITIES, readSeverity, type Severity } from './severity.js'

export const RUNBOOK_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/
export const STEP_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/

/** Languages whose blocks are commands: they must be named, and only they can be run. */
export const RUNNABLE_LANGUAGES = ['sh', 'bash', 'shell', 'zsh'] as const
export type RunnableLanguage = (typeof RUNNABLE_LANGUAGES)[number]

const STEP_ATTRIBUTES = ['step'] as const

export const REQUIRED_SECTIONS = [
  { key: 'summary', title: 'Summary', pattern: /^summary$/i },
  { key: 'detection', title: 'Detection', pattern: /^detection$/i },
  { key: 'triage', title: 'Triage checklist', pattern: /^triage(\s+checklist)?$/i },
  { key: 'mitigation', title: 'Mitigation', pattern: /^mitigation$/i },
  { key: 'verification', title: 'Verification', pattern: /^verification$/i },
  { key: 'escalation', title: 'Escalation', pattern: /^escalation$/i },
  { key: 'rollback', title: 'Rollback', pattern: /^rollback$/i },
] as const
export type SectionKey = (typeof REQUIRED_SECTIONS)[number]['key']

const severityHint = z
  .union([z.number(), z.string()])
  .refine((value) => readSeverity(value) !== undefined, { message: `expected ${SEVERITIES.join(', ')} (or 1 to 5)` })
  .transform((value) => readSeverity(value)!)

const list = (what: string) => z.array(z.string().trim().min(1, `${what} must not be empty`))

export const runbookMetaSchema = z.strictObject({
  id: z.string().regex(RUNBOOK_ID_PATTERN, 'an id is lowercase letters, digits and -, up to 64 characters'),
  title: z.string().trim().min(1).max(200),
  symptoms: list('a symptom').min(1, 'name at least one symptom'),
  alerts: list('an alert name').default([]),
  severity: severityHint,
  owner: z.string().trim().min(1),
  services: list('a service').optional(),
  tags: list('a tag').default([]),
})

export interface RunbookMeta {
  id: string
  title: string
  symptoms: string[]
  alerts: string[]
  severity: Severity
  owner: string
  services?: string[]
  tags: string[]
}

export interface RunbookSection {
  key?: SectionKey
  title: string
  line: number
  /** The Markdown of the section, heading excluded. */
  body: string
}

export interface RunbookStep {
  number: number
  name: string
  language: RunnableLanguage
  command: string
  /** Line of the opening fence. */
  line: number
  section?: SectionKey
  sectionTitle?: string
  /** The text that introduces the block (the list item or sentence above it). */
  description: string
}

export interface Runbook extends RunbookMeta {
  file: string
  /** Everything after the front matter. */
  body: string
  bodyLine: number
  sections: RunbookSection[]
  steps: RunbookStep[]
}

export interface RunbookProblem {
  file: string
  line: number
  col?: number
  message: string
  level: 'error' | 'warning'
  /** The front matter cannot be read: the file is not a runbook. */
  fatal: boolean
  hint?: string
}

export interface ParsedRunbook {
  runbook?: Runbook
  problems: RunbookProblem[]
}

export function formatProblem(problem: RunbookProblem): string {
  const where = `${problem.file}:${problem.line}${problem.col === undefined ? '' : `:${problem.col}`}`
  return `${where}: ${problem.level === 'warning' ? 'warning: ' : ''}${problem.message}`
}

const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\u0080-\u009F\u200B-\u200F\u202A-\u202E\u2066-\u2069]/

/** Parses a runbook file's text. `file` is how the file is named in problems. */
export function parseRunbook(source: string, file: string): ParsedRunbook {
  const problems: RunbookProblem[] = []
  const problem = (line: number, message: string, extra: Partial<RunbookProblem> = {}) =>
    problems.push({ file, line, message, level: 'error', fatal: false, ...extra })
  const text = source.replace(/^\uFEFF/, '')
  if (text.includes('\u0000')) {
    problem(1, 'not a text file (it contains NUL bytes)', { fatal: true })
    return { problems }
  }
  const lines = text.split(/\r?\n|\r/)

  // Control characters (an ANSI escape, a bidi override) could make a command look like another.
  lines.forEach((line, index) => {
    const found = CONTROL.exec(line)
    if (found)
      problem(
        index + 1,
        `contains the control character U+${found[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}, which can hide what a command does`,
        { col: found.index + 1 },
      )
  })

  const front = readFrontMatter(lines, file)
  problems.push(...front.problems)
  if (!front.meta) return { problems: sortProblems(problems) }

  const bodyStart = front.closeLine // index of the first body line (0-based) = closing line number (1-based)
  const structure = readStructure(lines, bodyStart, file)
  problems.push(...structure.problems)

  const meta = front.meta
  const base = file.split(/[\\/]/).pop()!.replace(/\.md$/i, '')
  if (base !== meta.id && !base.startsWith('_')) {
    problems.push({
      file,
      line: front.idLine ?? 2,
      message: `the id "${meta.id}" differs from the file name "${base}.md"`,
      level: 'warning',
      fatal: false,
    })
  }

  const runbook: Runbook = {
    ...meta,
    file,
    body: lines.slice(bodyStart).join('\n'),
    bodyLine: bodyStart + 1,
    sections: structure.sections,
    steps: structure.steps,
  }
  return { runbook, problems: sortProblems(problems) }
}

function sortProblems(problems: RunbookProblem[]): RunbookProblem[] {
  return problems.sort((a, b) => a.line - b.line || (a.col ?? 0) - (b.col ?? 0))
}

// --- front matter --------------------------------------------------------------------------------

interface FrontMatter {
  meta?: RunbookMeta
  /** 1-based line of the closing ---. */
  closeLine: number
  idLine?: number
  problems: RunbookProblem[]
}

const FRONT_MATTER_HINT =
  'A runbook starts with front matter between two --- lines: id, title, symptoms, alerts, severity, owner (see docs/incidents.md).'

function readFrontMatter(lines: string[], file: string): FrontMatter {
  const fatal = (line: number, message: string, col?: number, hint = FRONT_MATTER_HINT): FrontMatter => ({
    closeLine: 0,
    problems: [{ file, line, ...(col === undefined ? {} : { col }), message, level: 'error', fatal: true, hint }],
  })
  if (lines[0]?.trimEnd() !== '---') return fatal(1, 'no front matter: the first line must be ---', 1)
  const close = lines.findIndex((line, index) => index > 0 && /^(---|\.\.\.)\s*$/.test(line))
  if (close < 0) return fatal(1, 'the front matter opened on line 1 is never closed with a --- line', 1)

  // A blank first line in place of the opening --- keeps the YAML's line numbers those of the file.
  const yamlText = ['', ...lines.slice(1, close)].join('\n')
  let located: LocatedYaml
  try {
    located = parseYamlText(yamlText, file, 'runbook front matter')
  } catch (error) {
    if (!isOpsError(error)) throw error
    return { closeLine: 0, problems: problemsFromMessage(error.message, file, 2, error.hint) }
  }
  if (located.value === null || typeof located.value !== 'object' || Array.isArray(located.value)) {
    return fatal(2, 'the front matter must be a mapping of keys (id, title, symptoms, alerts, severity, owner)', 1)
  }
  const result = runbookMetaSchema.safeParse(located.value)
  if (!result.success) {
    const error = describeSchemaIssues(result.error.issues, located, runbookMetaSchema, {
      what: 'runbook front matter',
      hint: FRONT_MATTER_HINT,
    })
    return { closeLine: 0, problems: problemsFromMessage(error.message, file, 2, error.hint) }
  }
  const idLine = lineOfKey(located, 'id')
  const meta: RunbookMeta = { ...result.data, ...(result.data.services ? { services: result.data.services } : {}) }
  return { meta, closeLine: close + 1, ...(idLine ? { idLine } : {}), problems: [] }
}

function lineOfKey(located: LocatedYaml, key: string): number | undefined {
  const contents = located.document.contents as { items?: Array<{ key?: { value?: unknown; range?: [number, number, number] } }> } | null
  const pair = contents?.items?.find((item) => item.key?.value === key)
  const offset = pair?.key?.range?.[0]
  return offset === undefined ? undefined : located.lines.linePos(offset).line
}

/** Core's YAML messages are `file:line:col: message`, one per line; they become problems. */
function problemsFromMessage(message: string, file: string, fallbackLine: number, hint?: string): RunbookProblem[] {
  return message.split('\n').map((line) => {
    const rest = line.startsWith(`${file}:`) ? line.slice(file.length + 1) : line
    const match = /^(\d+):(\d+): (.*)$/.exec(rest)
    const base = { file, level: 'error' as const, fatal: true, ...(hint ? { hint } : {}) }
    if (match) return { ...base, line: Number(match[1]), col: Number(match[2]), message: match[3]! }
    return { ...base, line: fallbackLine, message: rest.replace(/^\s+/, '') }
  })
}

// --- sections and steps ------------------------------------------------------------------------

interface Structure {
  sections: RunbookSection[]
  steps: RunbookStep[]
  problems: RunbookProblem[]
}

const FENCE_OPEN = /^( {0,3})(`{3,}|~{3,})(.*)$/
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/

function readStructure(lines: string[], start: number, file: string): Structure {
  const problems: RunbookProblem[] = []
  const problem = (line: number, message: string, level: 'error' | 'warning' = 'error') =>
    problems.push({ file, line, message, level, fatal: false })
  const sections: Array<RunbookSection & { bodyLines: string[] }> = []
  const steps: RunbookStep[] = []
  const names = new Map<string, number>()
  let current: (RunbookSection & { bodyLines: string[] }) | undefined
  // The paragraph or list item above a block describes it.
  let paragraph: string[] = []
  let lastText = ''

  for (let index = start; index < lines.length; index++) {
    const line = lines[index]!
    const lineNumber = index + 1
    const fence = FENCE_OPEN.exec(line)
    if (fence) {
      const [, indent, marker, infoRaw] = fence as unknown as [string, string, string, string]
      const info = infoRaw.trim()
      if (marker.startsWith('`') && info.includes('`')) {
        current?.bodyLines.push(line)
        continue // not a fence: inline code that happens to start with backticks
      }
      let end = index + 1
      const closing = new RegExp(`^ {0,3}${marker[0] === '`' ? '`' : '~'}{${marker.length},}[ \\t]*$`)
      while (end < lines.length && !closing.test(lines[end]!)) end++
      const content = lines.slice(index + 1, end).map((text) => stripIndent(text, indent.length))
      current?.bodyLines.push(...lines.slice(index, Math.min(end + 1, lines.length)))
      if (end >= lines.length) problem(lineNumber, `the code block opened here is never closed with ${marker}`)
      const step = readStep(info, content, lineNumber, problem)
      if (step) {
        const previous = names.get(step.name)
        if (previous !== undefined) problem(lineNumber, `step name "${step.name}" is used twice (first on line ${previous})`)
        else names.set(step.name, lineNumber)
        steps.push({
          number: steps.length + 1,
          name: step.name,
          language: step.language,
          command: step.command,
          line: lineNumber,
          ...(current?.key ? { section: current.key } : {}),
          ...(current ? { sectionTitle: current.title } : {}),
          description: lastText.length > 240 ? `${lastText.slice(0, 239)}…` : lastText,
        })
        if (!current) problem(lineNumber, `step "${step.name}" is outside any section`, 'warning')
      }
      index = end
      paragraph = []
      continue
    }
    const heading = HEADING.exec(line)
    if (heading) {
      paragraph = []
      lastText = (heading[2] ?? '').trim()
    }
    if (heading && heading[1]!.length <= 2) {
      const title = (heading[2] ?? '').trim()
      if (heading[1]!.length === 1) {
        current?.bodyLines.push(line)
        continue
      }
      const key = REQUIRED_SECTIONS.find((section) => section.pattern.test(title))?.key
      current = { ...(key ? { key } : {}), title, line: lineNumber, body: '', bodyLines: [] }
      sections.push(current)
      continue
    }
    current?.bodyLines.push(line)
    if (heading) continue
    if (!line.trim()) paragraph = []
    else {
      if (/^\s*(?:[-*+]|\d+[.)])\s/.test(line)) paragraph = []
      paragraph.push(line.trim())
      lastText = describeLine(paragraph.join(' '))
    }
  }

  for (const section of sections) section.body = section.bodyLines.join('\n').replace(/^\n+|\s+$/g, '')
  const anchor = sections[0]?.line ?? start + 1
  for (const required of REQUIRED_SECTIONS) {
    const found = sections.filter((section) => section.key === required.key)
    if (found.length === 0) problem(anchor, `missing section "## ${required.title}"`)
    for (const duplicate of found.slice(1))
      problem(duplicate.line, `section "## ${required.title}" appears twice (first on line ${found[0]!.line})`)
    const first = found[0]
    if (first && !first.body) problem(first.line, `section "## ${first.title}" is empty`)
  }
  const triage = sections.find((section) => section.key === 'triage')
  if (triage?.body && !/^\s*[-*] \[[ xX]\]/m.test(triage.body))
    problem(triage.line, 'the triage checklist has no checklist items ("- [ ] ...")', 'warning')
  const mitigation = sections.find((section) => section.key === 'mitigation')
  if (mitigation?.body && !steps.some((step) => step.section === 'mitigation'))
    problem(mitigation.line, 'the mitigation section has no runnable step', 'warning')

  return { sections: sections.map(({ bodyLines: _bodyLines, ...section }) => section), steps, problems }
}

function stripIndent(text: string, width: number): string {
  let removed = 0
  while (removed < width && text[removed] === ' ') removed++
  return text.slice(removed)
}

/** A list item or sentence as a one-line description: `- [ ] Check p99:` -> `Check p99`. */
function describeLine(line: string): string {
  return line
    .trim()
    .replace(/^#+\s+/, '')
    .replace(/^(?:[-*+]|\d+[.)])\s+/, '')
    .replace(/^\[[ xX]\]\s+/, '')
    .replace(/[:：]\s*$/, '')
    .trim()
}

function readStep(
  info: string,
  content: string[],
  line: number,
  problem: (line: number, message: string, level?: 'error' | 'warning') => void,
): { name: string; language: RunnableLanguage; command: string } | undefined {
  const tokens = splitInfo(info)
  if (tokens === undefined) {
    problem(line, `cannot read the code block's info string "${info}" (an unclosed quote?)`)
    return undefined
  }
  const language = tokens[0] && !tokens[0].includes('=') ? tokens.shift()!.toLowerCase() : undefined
  const attributes = new Map<string, string>()
  for (const token of tokens) {
    const eq = token.indexOf('=')
    const key = eq < 0 ? token : token.slice(0, eq)
    if (!(STEP_ATTRIBUTES as readonly string[]).includes(key)) {
      problem(line, `unknown attribute "${key}" on a code block (known: ${STEP_ATTRIBUTES.join(', ')}; write step=NAME)`)
      continue
    }
    if (eq < 0) {
      problem(line, `"${key}" needs a value: ${key}=NAME`)
      continue
    }
    attributes.set(key, token.slice(eq + 1))
  }
  const name = attributes.get('step')
  const runnable = language !== undefined && (RUNNABLE_LANGUAGES as readonly string[]).includes(language)
  if (!language) {
    problem(line, 'a code block without a language: write ```sh step=NAME for a command, or name the language (text, sql, yaml, ...)')
    return undefined
  }
  if (!runnable) {
    if (name !== undefined)
      problem(line, `step "${name}" is a ${language} block; only ${RUNNABLE_LANGUAGES.join(', ')} blocks are runnable steps`)
    return undefined
  }
  if (name === undefined) {
    problem(line, `a ${language} command block without a name: add step=NAME (e.g. \`\`\`${language} step=check-errors)`)
    return undefined
  }
  if (!STEP_NAME_PATTERN.test(name)) {
    problem(line, `step name "${name}" must be lowercase letters, digits and -, starting with a letter or digit`)
    return undefined
  }
  const command = content.join('\n').replace(/^\n+|\s+$/g, '')
  if (!command) {
    problem(line, `step "${name}" has no command`)
    return undefined
  }
  return { name, language: language as RunnableLanguage, command }
}

/** `sh step=x title="a b"` -> tokens, with quotes removed; undefined on an unclosed quote. */
function splitInfo(info: string): string[] | undefined {
  const tokens: string[] = []
  let current = ''
  let quote: string | undefined
  let has = false
  for (const char of info) {
    if (quote) {
      if (char === quote) quote = undefined
      else current += char
      continue
    }
    if (char === '"' || char === "'") {
      quote = char
      has = true
    } else if (/\s/.test(char)) {
      if (has || current) tokens.push(current)
      current = ''
      has = false
    } else {
      current += char
      has = true
    }
  }
  if (quote) return undefined
  if (has || current) tokens.push(current)
  return tokens
}

export function findStep(runbook: Runbook, ref: string): RunbookStep | undefined {
  const trimmed = ref.trim()
  if (/^\d+$/.test(trimmed)) return runbook.steps.find((step) => step.number === Number(trimmed))
  return runbook.steps.find((step) => step.name === trimmed.toLowerCase())
}
