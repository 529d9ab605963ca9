import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { renameSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { Unleash, type Context } from 'unleash-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { importUnleashData } from '../../src/flags/unleash-import.js'
import { tempProject } from './fixtures.js'

/**
 * Unleash's client specification (the cases every official SDK must pass), through opsctl: each
 * spec's feature data is converted to flags.yaml by `flags import`'s converter, served by
 * `opsctl flags serve` (a real process), and read by the real unleash-client SDK, in its full
 * and its delta polling mode, and through the frontend API. The SDK reading the spec's raw data
 * is the reference: every case it passes must pass through opsctl too, and the frontend API must
 * agree with the SDK on every case served.
 */
const require = createRequire(import.meta.url)
const SPEC_DIR = '@unleash/client-specification/specifications'
const DEV_BIN = fileURLToPath(new URL('../../bin/dev.js', import.meta.url))
// The SDK's own evaluation over raw data, as its own spec runner does it (no server in between).
const { default: UnleashClient } = require('unleash-client/lib/client') as {
  default: new (
    repository: unknown,
    strategies: unknown[],
  ) => {
    isEnabled(name: string, context: unknown, fallback: () => boolean): boolean
    getVariant(name: string, context: unknown): Variant
  }
}
const { defaultStrategies } = require('unleash-client/lib/strategy') as { defaultStrategies: unknown[] }

type Json = Record<string, unknown>
interface Variant {
  name: string
  enabled: boolean
  payload?: { type: string; value: string }
  feature_enabled?: boolean
}
interface SpecCase {
  description: string
  context: Context
  toggleName: string
  expectedResult: boolean | Variant
}
interface Spec {
  name: string
  state: Json
  tests?: SpecCase[]
  variantTests?: SpecCase[]
}
interface Outcome {
  spec: string
  description: string
  expressible: boolean
  raw: boolean
  served: boolean
  delta: boolean
  frontend: boolean
}

const APP_NAME = 'client-specification'
const specFiles = require(`${SPEC_DIR}/index.json`) as string[]
const outcomes: Outcome[] = []

/** The spec's state (a client API document or delta events) as features and segments. */
function rawState(state: Json): { features: Json[]; segments: Json[] } {
  if (!Array.isArray(state.events)) return { features: (state.features as Json[]) ?? [], segments: (state.segments as Json[]) ?? [] }
  const features = new Map<string, Json>()
  const segments = new Map<number, Json>()
  for (const event of state.events as Json[]) {
    if (event.type === 'hydration') {
      for (const feature of event.features as Json[]) features.set(String(feature.name), feature)
      for (const segment of (event.segments as Json[]) ?? []) segments.set(Number(segment.id), segment)
    } else if (event.type === 'feature-updated') features.set(String((event.feature as Json).name), event.feature as Json)
    else if (event.type === 'feature-removed') features.delete(String(event.featureName))
    else if (event.type === 'segment-updated') segments.set(Number((event.segment as Json).id), event.segment as Json)
  }
  return { features: [...features.values()], segments: [...segments.values()] }
}

function sameVariant(actual: Variant, expected: Variant): boolean {
  return (
    actual.name === expected.name &&
    actual.enabled === expected.enabled &&
    (expected.feature_enabled === undefined || actual.feature_enabled === expected.feature_enabled) &&
    JSON.stringify(actual.payload ?? null) === JSON.stringify(expected.payload ?? null)
  )
}

/** `opsctl flags serve --json` as a process: its URL from the first line, its reloads from stderr's JSON lines. */
async function serve(file: string, clientToken: string, frontendToken: string) {
  const child: ChildProcess = spawn(
    process.execPath,
    [DEV_BIN, 'flags', 'serve', '--file', file, '--port', '0', '--json', '--client-token', clientToken, '--frontend-token', frontendToken],
    { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let stderr = ''
  const reloads: Array<Record<string, unknown>> = []
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
    for (const line of chunk.split('\n').filter((item) => item.startsWith('{'))) reloads.push(JSON.parse(line) as Record<string, unknown>)
  })
  const line = await new Promise<string>((resolve, reject) => {
    let stdout = ''
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      if (stdout.includes('\n')) resolve(stdout.slice(0, stdout.indexOf('\n')))
    })
    void exited.then(() => reject(new Error(`flags serve exited: ${stderr}`)))
  })
  const { url } = JSON.parse(line) as { url: string }
  return {
    url,
    /** Replaces the file as an editor would (a new file renamed over it) and waits, bounded, until it is served. */
    async replace(text: string): Promise<Record<string, unknown>> {
      const before = reloads.length
      writeFileSync(`${file}.next`, text)
      renameSync(`${file}.next`, file)
      for (let attempt = 0; attempt < 200; attempt++) {
        const event = reloads.slice(before).find((item) => item.event === 'reload')
        if (event) return event
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
      throw new Error(`flags serve did not reload: ${stderr}`)
    },
    stop: async () => {
      child.kill('SIGTERM')
      await exited
    },
  }
}

async function sdk(url: string, token: string, delta: boolean): Promise<Unleash> {
  const client = new Unleash({
    appName: APP_NAME,
    url: `${url}/`,
    customHeaders: { Authorization: token },
    refreshInterval: 60_000,
    disableMetrics: true,
    skipInstanceCountWarning: true,
    ...(delta ? { experimentalMode: { type: 'polling', format: 'delta' } as const } : {}),
  })
  client.on('error', () => {})
  client.on('warn', () => {})
  await new Promise<void>((resolve) => client.once('synchronized', () => resolve()))
  return client
}

async function frontend(url: string, token: string, context: Json): Promise<Array<{ name: string; variant: Variant }>> {
  const response = await fetch(`${url}/frontend`, {
    method: 'POST',
    headers: { authorization: token, 'content-type': 'application/json' },
    body: JSON.stringify({ context: { appName: APP_NAME, environment: 'default', ...context } }),
  })
  expect(response.status).toBe(200)
  return ((await response.json()) as { toggles: Array<{ name: string; variant: Variant }> }).toggles
}

// One server for every spec: each spec's flags.yaml is written over the last, and served once reloaded.
const project = tempProject('environments: [development]\n')
const secret = () => randomBytes(12).toString('hex')
const clientToken = `default:development.${secret()}`
const frontendToken = `default:development.${secret()}`
let server: Awaited<ReturnType<typeof serve>>
beforeAll(async () => {
  server = await serve(project.file, clientToken, frontendToken)
}, 120_000)
afterAll(async () => {
  await server?.stop()
  project.remove()
  const expressible = outcomes.filter((outcome) => outcome.expressible)
  const passed = expressible.filter((outcome) => outcome.served && outcome.delta && outcome.frontend)
  console.info(
    `Unleash client specification through opsctl flags serve: ${passed.length} passed / ${expressible.length} expressible / ${outcomes.length} cases ` +
      `(the SDK on the raw data passes ${outcomes.filter((outcome) => outcome.raw).length}); not expressible: ` +
      `${[...new Set(outcomes.filter((outcome) => !outcome.expressible).map((outcome) => outcome.spec))].join(', ') || 'none'}`,
  )
})

describe('the Unleash client specification, through opsctl flags serve', () => {
  it.each(specFiles)('%s', { timeout: 60_000 }, async (specFile) => {
    const spec = require(`${SPEC_DIR}/${specFile}`) as Spec
    const converted = importUnleashData(spec.state, { environment: 'development', today: '2026-01-01', source: specFile })
    const skipped = new Set(converted.skipped.map((item) => item.name))
    const { features, segments } = rawState(spec.state)
    const raw = new UnleashClient(
      {
        getToggle: (name: string) => features.find((feature) => feature.name === name),
        getSegment: (id: number) => segments.find((segment) => segment.id === id),
      },
      defaultStrategies,
    )
    const parentsOf = (name: string) =>
      ((features.find((feature) => feature.name === name)?.dependencies as Array<{ feature: string }> | undefined) ?? []).map(
        (dependency) => dependency.feature,
      )

    expect(await server.replace(converted.text)).toMatchObject({ ok: true, changed: true })
    const [full, delta] = await Promise.all([sdk(server.url, clientToken, false), sdk(server.url, clientToken, true)])
    try {
      const cases = [...(spec.tests ?? []), ...(spec.variantTests ?? [])]
      for (const test of cases) {
        const context = { appName: APP_NAME, environment: 'default', ...test.context }
        const expressible = ![test.toggleName, ...parentsOf(test.toggleName)].some((name) => skipped.has(name))
        const toggles = await frontend(server.url, frontendToken, test.context)
        const fromFrontend = toggles.find((toggle) => toggle.name === test.toggleName)
        let outcome: Omit<Outcome, 'spec' | 'description' | 'expressible'>
        if (typeof test.expectedResult === 'boolean') {
          const served = full.isEnabled(test.toggleName, test.context)
          outcome = {
            raw: raw.isEnabled(test.toggleName, context, () => false) === test.expectedResult,
            served: served === test.expectedResult,
            delta: delta.isEnabled(test.toggleName, test.context) === test.expectedResult,
            frontend: (fromFrontend !== undefined) === served,
          }
        } else {
          const expected = test.expectedResult
          const served = full.getVariant(test.toggleName, test.context) as Variant
          const frontendVariant = fromFrontend?.variant ?? { name: 'disabled', enabled: false, feature_enabled: false }
          outcome = {
            raw: sameVariant(raw.getVariant(test.toggleName, context), expected),
            served: sameVariant(served, expected),
            delta: sameVariant(delta.getVariant(test.toggleName, test.context) as Variant, expected),
            // A flag that is on without a variant is listed with the disabled variant: compare what both say.
            frontend: sameVariant(frontendVariant, { ...served, feature_enabled: fromFrontend ? served.feature_enabled : false }),
          }
        }
        outcomes.push({ spec: specFile, description: `${test.toggleName}: ${test.description}`, expressible, ...outcome })
      }
      const mine = outcomes.filter((outcome) => outcome.spec === specFile)
      // Every case the SDK passes on Unleash's data and flags.yaml can express passes through opsctl, in both modes,
      // and the frontend API answers as the SDK does.
      const failures = mine
        .filter((outcome) => outcome.expressible && (!outcome.frontend || (outcome.raw && !(outcome.served && outcome.delta))))
        .map((outcome) => `${outcome.description} (served ${outcome.served}, delta ${outcome.delta}, frontend ${outcome.frontend})`)
      expect(failures).toEqual([])
    } finally {
      full.destroy()
      delta.destroy()
    }
  })
})

describe('what flags.yaml cannot express of the specification', () => {
  // UTF-8 names and an operator Unleash does not have are kept as SDKs read them, with a notice;
  // flags push refuses both, as Unleash would
  it('is nothing', () => {
    expect(outcomes.length).toBeGreaterThan(250)
    expect(outcomes.filter((outcome) => !outcome.expressible)).toEqual([])
  })
})
