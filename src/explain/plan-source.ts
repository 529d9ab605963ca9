/**
 * A plan document (EXPLAIN's JSON or text format, as psql or a client printed it) into the plan
 * model. Pure: the caller reads the file; errors name the source, line and column.
 */
import { badInput } from '../core/index.js'
import { buildPlanModel, findPlanRoot, type PlanModel } from './model.js'
import { JsonSyntaxError, parseJsonText } from '../core/index.js'
import { TextPlanError, looksLikeTextPlan, parseTextPlan } from './plan-text.js'

const CAPTURE_HINT = 'Capture it again with EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON), or in the text format, and pass the whole output.'

export function parsePlanDocument(text: string, source: string): PlanModel {
  const body = text.replace(/^\uFEFF/, '')
  if (body.trim() === '') throw badInput(`Cannot read plan ${source}: it is empty`, CAPTURE_HINT)
  const json = unwrapPsqlJson(body)
  if (json !== null) {
    let parsed
    try {
      parsed = parseJsonText(json.text, { duplicates: 'collect' })
    } catch (error) {
      if (error instanceof JsonSyntaxError) {
        const truncated = error.reason.startsWith('unexpected end') || error.reason.startsWith('unterminated')
        throw badInput(
          `Cannot read plan ${source}: ${truncated ? 'truncated JSON, ' : ''}${error.reason} at line ${error.line + json.lineOffset}, column ${error.column}`,
          CAPTURE_HINT,
        )
      }
      throw error
    }
    const root = findPlanRoot(parsed.value)
    if (!root) throw badInput(`Cannot read plan ${source}: valid JSON, but no EXPLAIN "Plan" object in it`, CAPTURE_HINT)
    return buildPlanModel(root, { format: 'json', duplicateKeys: parsed.duplicateKeys })
  }
  if (!looksLikeTextPlan(body)) {
    throw badInput(
      `Cannot read plan ${source}: neither EXPLAIN JSON nor a text-format plan (no "(cost=..." or "(actual ..." node at line 1)`,
      CAPTURE_HINT,
    )
  }
  try {
    const parsed = parseTextPlan(body)
    return buildPlanModel(parsed.root, { format: 'text', skipped: parsed.skipped })
  } catch (error) {
    if (error instanceof TextPlanError)
      throw badInput(`Cannot read plan ${source}: ${error.reason} at line ${error.line}, column ${error.column}`, CAPTURE_HINT)
    throw error
  }
}

/**
 * JSON as is, or as psql's aligned output prints it (a "QUERY PLAN" header, "+" at line ends).
 * Returns null when the document is not JSON at all.
 */
function unwrapPsqlJson(text: string): { text: string; lineOffset: number } | null {
  const first = text.trimStart()[0]
  if (first === '[' || first === '{') return { text, lineOffset: 0 }
  const lines = text.split(/\r?\n/)
  const start = lines.findIndex((line) => /^\s*[[{]/.test(line))
  if (start < 1 || !lines.slice(0, start).every((line) => /^\s*(QUERY PLAN)?\s*$|^-+$/.test(line.trim()))) return null
  const body = lines
    .slice(start)
    .filter((line) => !/^\s*\(\d+ rows?\)\s*$/.test(line))
    .map((line) => line.replace(/\s*\+$/, ''))
    .join('\n')
  return { text: body, lineOffset: start }
}
