/** Reading a scenario file: YAML with positions, the schema, then checkScenario; every mistake at file:line:col. */
import { readFileSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { badInput, formatKeyPath, locate, parseYamlText, readYamlFile, scalarAt, validateYaml, type LocatedYaml } from '../core/index.js'
import { checkScenario, scenarioSchema, type Scenario, type ScenarioIssue } from './scenario.js'

const HINT = 'See docs/load.md for the scenario format.'
const MAX_CSV_BYTES = 64 * 1024 * 1024

export function loadScenarioFile(file: string): Scenario {
  return scenarioFromLocated(readYamlFile(file, 'scenario'))
}

/** The same from text, for tests and for scenarios that do not live in a file. */
export function parseScenarioText(text: string, file = 'scenario.yaml'): Scenario {
  return scenarioFromLocated(parseYamlText(text, file, 'scenario'))
}

function scenarioFromLocated(located: LocatedYaml): Scenario {
  if (located.value === null || located.value === undefined) throw badInput(`${located.file}: the scenario is empty`, HINT)
  if (typeof located.value !== 'object' || Array.isArray(located.value)) {
    throw badInput(`${located.file}:1:1: a scenario is a mapping with target, load, requests and thresholds`, HINT)
  }
  const input = validateYaml(located, scenarioSchema, { what: 'scenario', hint: HINT })
  const base = dirname(resolve(located.file))
  const checked = checkScenario(input, {
    readFile(name) {
      const path = resolve(base, name)
      if (statSync(path).size > MAX_CSV_BYTES) throw new Error(`larger than ${MAX_CSV_BYTES / 1024 / 1024}MB`)
      return readFileSync(path, 'utf8')
    },
  })
  if (!checked.ok) throw badInput(checked.issues.map((issue) => describeIssue(located, issue)).join('\n'), HINT)
  return checked.scenario
}

function describeIssue(located: LocatedYaml, issue: ScenarioIssue): string {
  const scalar = issue.column ? scalarAt(located, issue.path) : undefined
  const where =
    scalar && !scalar.multiline
      ? `${located.file}:${scalar.position.line}:${scalar.position.col + issue.column! - 1}: `
      : locate(located, issue.path)
  return `${where}${formatKeyPath(issue.path)}: ${issue.message}`
}
