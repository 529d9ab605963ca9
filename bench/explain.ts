// npm run bench -- explain [NODES]
//
// Speed of the plan analysis on a generated plan of NODES nodes (default 5000: far beyond real
// plans, which rarely pass a few hundred): the duplicate-keeping JSON parser next to JSON.parse,
// the whole JSON and text-format paths (parse + model), and the findings. Pure CPU, no database.
import { findPlanIssues, parsePlanDocument } from '../src/explain/index.js'
import { parseJsonText } from '../src/core/index.js'

interface Row {
  step: string
  ms: number
  mbPerSecond: number | null
}

export default async function run(args: string[]): Promise<string> {
  const nodes = Number(args[0] ?? 5000)
  const { json, text } = generatePlan(nodes)
  const rows: Row[] = []
  const measure = (step: string, bytes: number | null, work: () => unknown) => {
    work()
    const started = performance.now()
    let iterations = 0
    while (performance.now() - started < 1000 || iterations < 3) {
      work()
      iterations++
    }
    const ms = (performance.now() - started) / iterations
    rows.push({ step, ms, mbPerSecond: bytes === null ? null : bytes / 1e6 / (ms / 1000) })
  }
  const jsonBytes = Buffer.byteLength(json)
  const textBytes = Buffer.byteLength(text)
  measure('JSON.parse (loses duplicate keys; baseline)', jsonBytes, () => JSON.parse(json))
  measure('parseJsonText', jsonBytes, () => parseJsonText(json, { duplicates: 'collect' }))
  measure('JSON plan -> model', jsonBytes, () => parsePlanDocument(json, 'bench.json'))
  measure('text plan -> model', textBytes, () => parsePlanDocument(text, 'bench.txt'))
  const model = parsePlanDocument(json, 'bench.json')
  measure('findings', null, () => findPlanIssues(model))

  const table = [
    `Plan of ${model.nodes.length} nodes: ${(jsonBytes / 1e6).toFixed(2)} MB as JSON, ${(textBytes / 1e6).toFixed(2)} MB as text.`,
    '',
    '| step | ms per plan | MB/s |',
    '|---|---:|---:|',
    ...rows.map((row) => `| ${row.step} | ${row.ms.toFixed(2)} | ${row.mbPerSecond === null ? '—' : row.mbPerSecond.toFixed(1)} |`),
  ]
  return table.join('\n')
}

/** A balanced tree of hash joins over filtered sequential scans, in both formats. */
function generatePlan(count: number): { json: string; text: string } {
  let next = 0
  const textLines: string[] = []
  const build = (depth: number, indent: number, arrow: boolean): Record<string, unknown> => {
    const id = next++
    const leaf = next + 2 > count || depth > 14
    const pad = ' '.repeat(indent)
    const head = arrow ? `${pad}->  ` : pad
    const props = ' '.repeat(arrow ? indent + 6 : indent + 2)
    const rows = 1000 + id
    if (leaf) {
      textLines.push(
        `${head}Seq Scan on t${id}  (cost=0.00..${rows}.00 rows=${rows} width=8) (actual time=0.010..${(id / 100).toFixed(3)} rows=${rows} loops=1)`,
      )
      textLines.push(
        `${props}Filter: (a${id} = 1)`,
        `${props}Rows Removed by Filter: ${rows * 9}`,
        `${props}Buffers: shared hit=${id} read=${id % 7}`,
      )
      return {
        'Node Type': 'Seq Scan',
        'Parent Relationship': 'Outer',
        'Parallel Aware': false,
        'Relation Name': `t${id}`,
        Alias: `t${id}`,
        'Startup Cost': 0,
        'Total Cost': rows,
        'Plan Rows': rows,
        'Plan Width': 8,
        'Actual Startup Time': 0.01,
        'Actual Total Time': id / 100,
        'Actual Rows': rows,
        'Actual Loops': 1,
        Filter: `(a${id} = 1)`,
        'Rows Removed by Filter': rows * 9,
        'Shared Hit Blocks': id,
        'Shared Read Blocks': id % 7,
      }
    }
    textLines.push(
      `${head}Hash Join  (cost=1.00..${rows * 2}.00 rows=${rows} width=16) (actual time=0.100..${(id / 10).toFixed(3)} rows=${rows} loops=1)`,
    )
    textLines.push(`${props}Hash Cond: (t.a = u.b)`, `${props}Buffers: shared hit=${id * 2}`)
    const childIndent = arrow ? indent + 6 : indent + 2
    const outer = build(depth + 1, childIndent, true)
    const hashId = next++
    textLines.push(
      `${' '.repeat(childIndent)}->  Hash  (cost=1.00..${rows}.00 rows=${rows} width=8) (actual time=0.050..${(hashId / 100).toFixed(3)} rows=${rows} loops=1)`,
    )
    textLines.push(`${' '.repeat(childIndent + 6)}Buckets: 1024  Batches: 1  Memory Usage: 64kB`)
    const inner = build(depth + 1, childIndent + 6, true)
    return {
      'Node Type': 'Hash Join',
      'Parent Relationship': 'Outer',
      'Parallel Aware': false,
      'Join Type': 'Inner',
      'Startup Cost': 1,
      'Total Cost': rows * 2,
      'Plan Rows': rows,
      'Plan Width': 16,
      'Actual Startup Time': 0.1,
      'Actual Total Time': id / 10,
      'Actual Rows': rows,
      'Actual Loops': 1,
      'Hash Cond': '(t.a = u.b)',
      'Shared Hit Blocks': id * 2,
      Plans: [
        outer,
        {
          'Node Type': 'Hash',
          'Parent Relationship': 'Inner',
          'Parallel Aware': false,
          'Startup Cost': 1,
          'Total Cost': rows,
          'Plan Rows': rows,
          'Plan Width': 8,
          'Actual Startup Time': 0.05,
          'Actual Total Time': hashId / 100,
          'Actual Rows': rows,
          'Actual Loops': 1,
          'Hash Buckets': 1024,
          'Original Hash Buckets': 1024,
          'Hash Batches': 1,
          'Original Hash Batches': 1,
          'Peak Memory Usage': 64,
          Plans: [inner],
        },
      ],
    }
  }
  const plan = build(0, 0, false)
  textLines.push('Planning Time: 1.000 ms', 'Execution Time: 100.000 ms')
  return { json: JSON.stringify([{ Plan: plan, 'Planning Time': 1, 'Execution Time': 100 }], null, 2), text: textLines.join('\n') }
}
