/**
 * Adapter: where the statement comes from: the argument, --file, or stdin (when it is piped).
 */
import { readFile } from 'node:fs/promises'
import { badInput } from '../core/index.js'

export interface StatementInput {
  argument?: string | undefined
  file?: string | undefined
  stdin?: NodeJS.ReadStream & { isTTY?: boolean }
}

export async function readStatementInput(input: StatementInput): Promise<string> {
  const sources = [input.argument !== undefined, input.file !== undefined].filter(Boolean).length
  if (sources > 1) throw badInput('Give the statement either as an argument or with --file, not both')
  if (input.argument !== undefined) return input.argument
  if (input.file !== undefined) {
    try {
      return await readFile(input.file, 'utf8')
    } catch (error) {
      const code = (error as { code?: string }).code
      throw badInput(
        `Cannot read ${input.file}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
        'Check the path of --file.',
      )
    }
  }
  const stdin = input.stdin ?? process.stdin
  if (stdin.isTTY) {
    throw badInput('No statement to explain', 'Pass the SQL as an argument, with --file, on stdin, or an existing plan with --plan FILE.')
  }
  const chunks: Buffer[] = []
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer))
  return Buffer.concat(chunks).toString('utf8')
}
