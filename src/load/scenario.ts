/**
 * Scenario files: the schema, and the checks zod cannot make (templates naming unknown
 * variables, malformed thresholds, rate and stages together...), each reported at its key path
 * and, when the file is known, its line. `checkScenario` is pure: CSV files are read through the
 * function it is given.
 */
import { z } from 'zod'
import { parseDuration } from '../core/index.js'
import type { RateStage } from './arrival.js'
import type { RequestSpec } from './plan.js'
import {
  isVariableName,
  jsonBodyTemplate,
  parseJsonPath,
  parseTemplate,
  type BodyExpectation,
  type Encoding,
  type Template,
  type VariableSpec,
} from './template.js'
import { tryParseThreshold, type Threshold } from './thresholds.js'
import { parseCsv } from './csv.js'

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const

const durationValue = z
  .union([z.string(), z.number().nonnegative()], { error: 'expected a duration such as 500ms, 30s or 2m' })
  .transform((value, context) => {
    if (typeof value === 'number') return value
    try {
      return parseDuration(value)
    } catch {
      context.issues.push({ code: 'custom', message: `"${value.slice(0, 40)}" is not a duration; use 500ms, 30s or 2m`, input: value })
      return z.NEVER
    }
  })

const positiveInt = z.number().int().positive()

const variableSchema = z
  .strictObject({
    random: z.strictObject({ min: z.number().int(), max: z.number().int() }).optional(),
    counter: z.strictObject({ start: z.number().int().optional(), step: z.number().int().optional() }).nullable().optional(),
    csv: z
      .strictObject({
        file: z.string().min(1),
        column: z
          .union([z.string().min(1), z.number().int().nonnegative()], { error: 'expected a column name or a 0-based index' })
          .optional(),
      })
      .optional(),
    values: z
      .array(z.union([z.string(), z.number()], { error: 'expected a string or a number' }))
      .min(1)
      .optional(),
    order: z.enum(['sequential', 'random']).optional(),
  })
  .nullable()

const requestSchema = z.strictObject({
  name: z.string().min(1).max(100).optional(),
  method: z
    .string()
    .transform((method) => method.toUpperCase())
    .pipe(z.enum(HTTP_METHODS, { error: `method must be one of ${HTTP_METHODS.join(', ')}` }))
    .optional(),
  path: z.string().regex(/^\//, 'a path starts with "/"'),
  headers: z
    .record(
      z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'not a valid header name'),
      z.union([z.string(), z.number()], { error: 'a header value is a string' }),
    )
    .optional(),
  body: z.unknown().optional(),
  weight: z.number().positive().optional(),
  variables: z.record(z.string(), variableSchema).optional(),
  expect: z
    .strictObject({
      status: z
        .union([z.number().int().min(100).max(599), z.array(z.number().int().min(100).max(599)).min(1)], {
          error: 'expected a status code (200) or a list of them ([200, 201])',
        })
        .optional(),
      body: z
        .strictObject({
          contains: z.string().min(1).optional(),
          json: z.strictObject({ path: z.string(), equals: z.unknown() }).optional(),
        })
        .optional(),
    })
    .optional(),
})

export const scenarioSchema = z.strictObject({
  name: z.string().min(1).max(100).optional(),
  target: z.string().optional(),
  seed: z.number().int().optional(),
  load: z
    .strictObject({
      connections: z.number().int().min(1).max(10_000).optional(),
      rate: z.number().positive().max(1_000_000).optional(),
      startRate: z.number().nonnegative().max(1_000_000).optional(),
      stages: z
        .array(z.strictObject({ duration: durationValue, target: z.number().nonnegative().max(1_000_000) }))
        .min(1)
        .optional(),
      duration: durationValue.optional(),
      requests: positiveInt.max(100_000_000).optional(),
      maxDuration: durationValue.optional(),
      warmup: durationValue.optional(),
      timeout: durationValue.optional(),
      workers: z.number().int().min(0).max(64).optional(),
    })
    .optional(),
  requests: z.array(requestSchema).min(1, 'a scenario has at least one request'),
  thresholds: z.array(z.string()).optional(),
})

export type ScenarioInput = z.output<typeof scenarioSchema>

/** A checked scenario, before its target is resolved into a plan. */
export interface Scenario {
  name: string
  target?: string
  seed: number
  load: {
    connections?: number
    rate?: number
    startRate?: number
    stages?: RateStage[]
    durationMs?: number
    requests?: number
    maxDurationMs?: number
    warmupMs: number
    timeoutMs: number
    workers?: number
  }
  specs: RequestSpec[]
  thresholds: Threshold[]
}

export interface ScenarioIssue {
  path: Array<string | number>
  message: string
  /** 1-based column inside the string value at `path`, when the mistake is inside it. */
  column?: number
}

export type ScenarioCheck = { ok: true; scenario: Scenario } | { ok: false; issues: ScenarioIssue[] }

export interface CheckOptions {
  /** Reads a CSV file named in the scenario (relative to the scenario); throws when it cannot. */
  readFile(file: string): string
}

export const DEFAULT_TIMEOUT_MS = 10_000
export const DEFAULT_DURATION_MS = 10_000
export const DEFAULT_MAX_DURATION_MS = 10 * 60_000

/** The checks after the schema: everything that relates one key to another. */
export function checkScenario(input: ScenarioInput, options: CheckOptions): ScenarioCheck {
  const issues: ScenarioIssue[] = []
  const issue = (path: Array<string | number>, message: string, column?: number) =>
    issues.push({ path, message, ...(column ? { column } : {}) })
  const load = input.load ?? {}

  if (load.rate !== undefined && load.stages)
    issue(['load', 'stages'], 'use either rate (a constant arrival rate) or stages (ramping), not both')
  if (load.startRate !== undefined && !load.stages)
    issue(['load', 'startRate'], 'startRate is the rate the first stage ramps from; it needs stages')
  if (load.duration !== undefined && load.requests !== undefined) issue(['load', 'requests'], 'use either duration or requests, not both')
  if (load.stages && load.duration !== undefined)
    issue(['load', 'duration'], 'with stages the run lasts as long as its stages; drop duration')
  if (load.stages && load.requests !== undefined)
    issue(['load', 'requests'], 'with stages the run lasts as long as its stages; drop requests')
  if (load.duration === 0) issue(['load', 'duration'], 'a run lasts more than 0s')
  if (load.timeout === 0) issue(['load', 'timeout'], 'a timeout is more than 0s')
  const stagesMs = load.stages?.reduce((total, stage) => total + stage.duration, 0)
  if (stagesMs !== undefined && stagesMs === 0) issue(['load', 'stages'], 'the stages last 0s in total')
  if (stagesMs !== undefined && (load.warmup ?? 0) >= stagesMs)
    issue(['load', 'warmup'], 'the warm-up is as long as the stages: nothing would be measured')
  if (load.stages && load.stages.every((stage) => stage.target === 0) && (load.startRate ?? 0) === 0)
    issue(['load', 'stages'], 'every stage has target 0: nothing would be sent')

  const specs: RequestSpec[] = []
  const names = new Set<string>()
  input.requests.forEach((request, index) => {
    const at = (...rest: Array<string | number>) => ['requests', index, ...rest]
    const name = request.name ?? `${request.method ?? 'GET'} ${request.path}`
    if (names.has(name)) issue(at('name'), `another request is already named "${name}"; give each a distinct name`)
    names.add(name)

    const variables: Record<string, VariableSpec> = {}
    for (const [variableName, definition] of Object.entries(request.variables ?? {})) {
      const path = at('variables', variableName)
      if (!isVariableName(variableName))
        issue(path, `"${variableName}" is not a variable name (letters, digits and _, not starting with a digit)`)
      const spec = variableSpec(definition, path, options, issue)
      if (spec) variables[variableName] = spec
    }
    const known = new Set(Object.keys(request.variables ?? {}))
    const template = (text: string, encoding: Encoding, path: Array<string | number>): Template | undefined => {
      const parsed = parseTemplate(text, encoding, known)
      if (parsed.ok) return parsed.template
      issue(path, parsed.reason, parsed.column)
      return undefined
    }

    const path = template(request.path, 'uri', at('path'))
    if (/[\s#]/.test(request.path)) issue(at('path'), 'a path has no spaces or "#"; encode them (%20)')
    const headers: RequestSpec['headers'] = []
    let hasContentType = false
    for (const [headerName, value] of Object.entries(request.headers ?? {})) {
      if (/[\r\n]/.test(String(value))) issue(at('headers', headerName), 'a header value is one line')
      if (headerName.toLowerCase() === 'content-type') hasContentType = true
      const parsed = template(String(value), 'raw', at('headers', headerName))
      if (parsed) headers.push({ name: headerName, value: parsed })
    }
    let body: Template | undefined
    if (typeof request.body === 'string') body = template(request.body, 'raw', at('body'))
    else if (request.body !== undefined && request.body !== null) {
      const parsed = jsonBodyTemplate(request.body, known)
      if (parsed.ok) body = parsed.template
      else issue(at('body', ...parsed.path), parsed.reason, parsed.column)
      if (!hasContentType) headers.push({ name: 'content-type', value: { parts: ['application/json'], variables: [] } })
    }

    const expectBody: BodyExpectation = {}
    const contains = request.expect?.body?.contains
    if (contains !== undefined) expectBody.contains = template(contains, 'raw', at('expect', 'body', 'contains'))
    const json = request.expect?.body?.json
    if (json) {
      const parsed = parseJsonPath(json.path)
      if (!parsed.ok) issue(at('expect', 'body', 'json', 'path'), parsed.reason, parsed.column)
      else expectBody.json = { path: parsed.path, pathText: json.path, equals: json.equals }
      if (typeof json.equals === 'string') template(json.equals, 'raw', at('expect', 'body', 'json', 'equals'))
      if (json.equals === undefined) issue(at('expect', 'body', 'json'), 'json needs equals: the value expected at path')
    }
    const status = request.expect?.status
    if (!path) return
    specs.push({
      name,
      weight: request.weight ?? 1,
      method: request.method ?? 'GET',
      path,
      headers,
      ...(body ? { body } : {}),
      variables,
      expect: {
        ...(status !== undefined ? { status: Array.isArray(status) ? status : [status] } : {}),
        ...(expectBody.contains || expectBody.json ? { body: expectBody } : {}),
      },
    })
  })

  const thresholds: Threshold[] = []
  ;(input.thresholds ?? []).forEach((text, index) => {
    const parsed = tryParseThreshold(text)
    if (parsed.ok) thresholds.push(parsed.threshold)
    else issue(['thresholds', index], `invalid threshold "${text.slice(0, 60)}": ${parsed.reason}`, parsed.column)
  })

  if (input.target !== undefined) {
    const problem = targetProblem(input.target)
    if (problem) issue(['target'], problem)
  }

  if (issues.length > 0) return { ok: false, issues }
  return {
    ok: true,
    scenario: {
      name: input.name ?? 'scenario',
      ...(input.target !== undefined ? { target: input.target } : {}),
      seed: input.seed ?? 1,
      load: {
        ...(load.connections !== undefined ? { connections: load.connections } : {}),
        ...(load.rate !== undefined ? { rate: load.rate } : {}),
        ...(load.startRate !== undefined ? { startRate: load.startRate } : {}),
        ...(load.stages ? { stages: load.stages.map((stage) => ({ durationMs: stage.duration, target: stage.target })) } : {}),
        ...(load.duration !== undefined ? { durationMs: load.duration } : {}),
        ...(load.requests !== undefined ? { requests: load.requests } : {}),
        ...(load.maxDuration !== undefined ? { maxDurationMs: load.maxDuration } : {}),
        warmupMs: load.warmup ?? 0,
        timeoutMs: load.timeout ?? DEFAULT_TIMEOUT_MS,
        ...(load.workers !== undefined ? { workers: load.workers } : {}),
      },
      specs,
      thresholds,
    },
  }
}

function variableSpec(
  definition: z.output<typeof variableSchema>,
  path: Array<string | number>,
  options: CheckOptions,
  issue: (path: Array<string | number>, message: string) => void,
): VariableSpec | undefined {
  const kinds = (['random', 'counter', 'csv', 'values'] as const).filter((kind) => definition && kind in definition)
  if (!definition || kinds.length !== 1) {
    issue(
      path,
      `a variable is exactly one of random: {min, max}, counter: {start, step}, csv: {file, column} or values: [...]${kinds.length > 1 ? ` (found ${kinds.join(' and ')})` : ''}`,
    )
    return undefined
  }
  const order = definition.order ?? 'sequential'
  if (definition.order !== undefined && (definition.random !== undefined || 'counter' in definition))
    issue([...path, 'order'], 'order applies to csv and values only')
  if (definition.random) {
    if (definition.random.min > definition.random.max)
      issue([...path, 'random'], `min (${definition.random.min}) is above max (${definition.random.max})`)
    return { kind: 'random', min: definition.random.min, max: definition.random.max }
  }
  if ('counter' in definition) return { kind: 'counter', start: definition.counter?.start ?? 1, step: definition.counter?.step ?? 1 }
  if (definition.values) return { kind: 'values', values: definition.values, order, source: 'values' }
  const csv = definition.csv!
  let text: string
  try {
    text = options.readFile(csv.file)
  } catch (error) {
    issue([...path, 'csv', 'file'], `cannot read ${csv.file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
    return undefined
  }
  const table = parseCsv(text)
  if (!table.ok) {
    issue([...path, 'csv', 'file'], `${csv.file}:${table.line}: ${table.reason}`)
    return undefined
  }
  const column = csv.column ?? 0
  const index = typeof column === 'number' ? column : table.header.indexOf(column)
  if (index === -1 || index >= table.header.length) {
    issue([...path, 'csv', 'column'], `${csv.file} has no column ${JSON.stringify(column)}; its columns are ${table.header.join(', ')}`)
    return undefined
  }
  const values = table.rows.map((row) => row[index] ?? '').filter((value) => value !== '')
  if (values.length === 0) {
    issue([...path, 'csv', 'file'], `${csv.file} has no values in column ${JSON.stringify(table.header[index])}`)
    return undefined
  }
  return { kind: 'values', values, order, source: csv.file }
}

/** undefined when the URL can be a load target; otherwise what is wrong with it. */
export function targetProblem(url: string): string | undefined {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return `"${url.slice(0, 80)}" is not a URL; write it like http://127.0.0.1:3000`
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    return `only http:// and https:// targets can be loaded, not ${parsed.protocol}//`
  if (parsed.search || parsed.hash) return 'the target is a base URL; put query strings in the request paths'
  return undefined
}
