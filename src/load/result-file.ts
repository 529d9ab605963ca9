/** Result files: `--out` writes one, `--baseline` and `opsctl load compare` read them back. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { z } from 'zod'
import { badInput, formatKeyPath, redactValue } from '../core/index.js'
import type { ComparableResult } from './compare.js'
import { RESULT_KIND, type LoadResult } from './result.js'

const secondSchema = z.looseObject({
  requests: z.number().nonnegative(),
  failed: z.number().nonnegative(),
  rps: z.number().nonnegative(),
  p50: z.number().nullable(),
  p99: z.number().nullable(),
  partial: z.boolean().optional(),
})

const comparableSchema = z.looseObject({
  kind: z.literal(RESULT_KIND, { error: `not an opsctl load result (kind must be "${RESULT_KIND}")` }),
  version: z.number().int().min(1).max(1, { error: 'written by a newer opsctl (version above 1)' }),
  name: z.string(),
  model: z.enum(['open', 'closed']),
  startedAt: z.string(),
  runs: z.array(z.looseObject({ series: z.array(secondSchema) })).min(1),
})

export function readResultFile(file: string): ComparableResult & { file: string; summary?: LoadResult['summary'] } {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw badInput(
      `Cannot read result file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      'Write one with opsctl load ... --out results.json.',
    )
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw badInput(`${file} is not JSON: ${(error as Error).message}`, 'Give a file written by opsctl load --out.')
  }
  const parsed = comparableSchema.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw badInput(
      `${file}: ${formatKeyPath(issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment))))}: ${issue.message}`,
      'Give a file written by opsctl load --out.',
    )
  }
  return { ...(parsed.data as unknown as ComparableResult & { summary?: LoadResult['summary'] }), file }
}

export function writeResultFile(file: string, result: LoadResult): void {
  try {
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, `${JSON.stringify(redactValue(result), null, 2)}\n`)
  } catch (error) {
    throw badInput(
      `Cannot write ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      'Choose a writable path for --out.',
    )
  }
}
