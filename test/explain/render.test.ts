import { describe, expect, it } from 'vitest'
import { palette, stripAnsi } from '../../src/core/index.js'
import {
  diffPlans,
  renderApplyStatements,
  renderExplainMarkdown,
  renderExplainReport,
  renderPlanDiff,
  renderPlanDiffMarkdown,
} from '../../src/explain/index.js'
import { type ExplainReport } from '../../src/explain/explain.js'
import { explainPlanText } from '../../src/explain/explain.js'
import { redactParameterValues, scrubParameterValues } from '../../src/explain/scrub.js'
import { fixture } from './plan-builders.js'

const report = () => explainPlanText(fixture('items-by-sku-seqscan-pg15.json'), 'plans/items.json')

describe('rendering', () => {
  it('draws the plan as an indented tree with a self-time bar per node, and the findings', () => {
    const text = renderExplainReport(report(), palette(false))
    expect(text).not.toMatch(/\u001B\[/)
    const lines = text.split('\n')
    expect(lines[0]).toBe('Plan from plans/items.json')
    const tree = lines.slice(3, 5)
    expect(tree[0]).toMatch(/^\s+\d+(\.\d+)?(µs|ms)\s+\d+% .*Sort  rows 265$/)
    expect(tree[1]).toMatch(/^\s+\d+(\.\d+)?ms\s+9\d% █+.*└─ Seq Scan on items  rows 265 · filter removed 99,735$/)
    expect(text).toContain('Findings (1)')
    expect(text).toContain('→ Index the filter: CREATE INDEX CONCURRENTLY ON items (sku)')
  })

  it('colours hot nodes only when colours are on', () => {
    const colored = renderExplainReport(report(), palette(true))
    expect(colored).toMatch(/\u001B\[31m/)
    expect(stripAnsi(colored)).toBe(renderExplainReport(report(), palette(false)))
  })

  it('shows cost shares instead of times for a plan that did not run', () => {
    const estimated = explainPlanText(
      'Sort  (cost=2000.00..2001.00 rows=277 width=30)\n  ->  Seq Scan on items  (cost=0.00..1997.93 rows=277 width=30)\n',
      'estimated.txt',
    )
    const text = renderExplainReport(estimated, palette(false))
    expect(text).toContain('estimated (not run)')
    expect(text).toMatch(/c 1998\s+100%/)
  })

  it('writes Markdown for pull-request comments', () => {
    const markdown = renderExplainMarkdown(report())
    expect(markdown).toContain('| # | Node | Self time | Share | Rows | Details |')
    expect(markdown).toMatch(/\| 1 \| \*\*&nbsp;&nbsp;↳ Seq Scan on items\*\* \|/)
    expect(markdown).toContain('- **critical** · `#1 Seq Scan on items`')
  })

  it('prints --apply statements only as text to run by hand', () => {
    const withAdvice: ExplainReport = {
      ...report(),
      advice: {
        status: 'verified',
        hypopg: 'installed',
        message: '1 of 2',
        baselineCost: 1997.93,
        minSaving: 0.2,
        rejected: [],
        unverified: [],
        suggestions: [
          {
            table: 'items',
            schema: null,
            relation: 'items',
            columns: ['sku'],
            reason: 'equality on sku',
            definition: 'CREATE INDEX ON items (sku)',
            costBefore: 1997.93,
            costAfter: 565.75,
            saving: 0.7168,
            estimatedSizeBytes: 3_448_832,
            usedBy: ['#1 Bitmap Heap Scan on items'],
            createStatement: 'CREATE INDEX CONCURRENTLY items_sku_idx ON items (sku);',
          },
        ],
      },
    }
    expect(renderApplyStatements(withAdvice).split('\n')).toEqual([
      '-- opsctl never runs these; review and run them yourself (CONCURRENTLY: no write lock, but not inside a transaction).',
      '-- equality on sku: planner cost 1997.93 -> 565.75 (-71.7%)',
      'CREATE INDEX CONCURRENTLY items_sku_idx ON items (sku);',
    ])
    expect(renderExplainReport(withAdvice, palette(false))).toContain(
      '+ items (sku)  cost 1997.93 → 565.75 (-71.7%) · ~3.4MB · equality on sku',
    )
    expect(renderApplyStatements(report())).toMatch(/^-- No index advice/)
  })

  it('renders a plan diff as text and Markdown', () => {
    const before = explainPlanText(fixture('items-by-sku-index-pg15.json'), 'before.json')
    const after = report()
    const diff = diffPlans({ label: 'before.json', ...before }, { label: 'after.json', ...after })
    const text = renderPlanDiff(diff, palette(false))
    expect(text).toContain('items: Bitmap Heap Scan using items_sku_idx → Seq Scan  (index no longer used)')
    expect(text).toContain('at 0.0: Bitmap Heap Scan on items became Seq Scan on items')
    expect(text).toContain('Regression:')
    expect(renderPlanDiffMarkdown(diff)).toContain('**Regression**: total cost rose')
  })
})

describe('parameter values', () => {
  it('are put back as $n in the plan', () => {
    const scrubbed = scrubParameterValues(
      {
        Filter: "((sku = 'SKU-0042'::text) AND (quantity > 12345) AND (note = 'it''s'))",
        'Index Cond': '(id = 123456)',
        'Relation Name': '12345',
      },
      ['SKU-0042', '12345', "it's", '123456'],
    )
    expect(scrubbed).toEqual({
      Filter: '((sku = $1::text) AND (quantity > $2) AND (note = $3))',
      'Index Cond': '(id = $4)',
      'Relation Name': '12345',
    })
  })

  it('are redacted from error messages', () => {
    expect(redactParameterValues('invalid input syntax for type integer: "secret-sku"', ['secret-sku'])).toBe(
      'invalid input syntax for type integer: "***"',
    )
    expect(redactParameterValues('value "7" out of range at line 7', ['7'])).toBe('value "***" out of range at line 7')
  })
})
