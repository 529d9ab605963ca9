import { readFileSync } from 'node:fs'
import type { JsonObject, JsonValue } from '../../src/core/index.js'
import { findPlanIssues, type Finding, type PlanModel } from '../../src/explain/index.js'
import { buildPlanModel } from '../../src/explain/model.js'
import { type FindingContext } from '../../src/explain/findings.js'

/** Small builders of EXPLAIN JSON nodes, so each test states only the numbers it is about. */
export interface NodeSpec {
  rows?: number
  est?: number
  loops?: number
  /** Actual Total Time per loop, ms. */
  time?: number
  cost?: number
  relation?: string
  alias?: string
  index?: string
  join?: string
  relationship?: string
  subplan?: string
  analyzed?: boolean
  [key: string]: JsonValue | undefined
}

export function node(type: string, spec: NodeSpec = {}, children: JsonObject[] = []): JsonObject {
  const { rows, est, loops, time, cost, relation, alias, index, join, relationship, subplan, analyzed, ...extra } = spec
  const out: JsonObject = { 'Node Type': type }
  if (relationship) out['Parent Relationship'] = relationship
  if (subplan) out['Subplan Name'] = subplan
  if (join) out['Join Type'] = join
  if (index) out['Index Name'] = index
  if (relation) {
    out['Relation Name'] = relation
    out.Alias = alias ?? relation
  }
  out['Startup Cost'] = 0
  out['Total Cost'] = cost ?? 100
  out['Plan Rows'] = est ?? rows ?? 1
  out['Plan Width'] = 8
  if (analyzed !== false) {
    out['Actual Startup Time'] = 0
    out['Actual Total Time'] = time ?? 0.01
    out['Actual Rows'] = rows ?? 1
    out['Actual Loops'] = loops ?? 1
  }
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) out[key] = value
  if (children.length > 0) {
    children.forEach((child, i) => {
      if (child['Parent Relationship'] === undefined) child['Parent Relationship'] = i === 0 ? 'Outer' : 'Inner'
    })
    out.Plans = children
  }
  return out
}

export function plan(root: JsonObject, top: JsonObject = {}): PlanModel {
  return buildPlanModel({ Plan: root, ...top })
}

export function findings(root: JsonObject, top: JsonObject = {}, context: FindingContext = {}): Finding[] {
  return findPlanIssues(plan(root, top), context)
}

export function codes(list: Finding[]): string[] {
  return list.map((finding) => finding.code)
}

export function fixture(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')
}

export function fixturePath(name: string): string {
  return new URL(`./fixtures/${name}`, import.meta.url).pathname
}
