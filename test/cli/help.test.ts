import { readdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT } from '../helpers/cli.js'

function commandFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? commandFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  )
}

const files = commandFiles(join(ROOT, 'commands'))

describe('every command', () => {
  it.each(files.map((file) => [relative(ROOT, file), file]))('%s has a summary, examples and --json', async (_name, file) => {
    const { default: command } = (await import(file)) as {
      default: { summary?: string; examples?: unknown[]; enableJsonFlag?: boolean; baseFlags?: Record<string, unknown> }
    }
    expect(command.summary?.length).toBeGreaterThan(10)
    expect(command.examples?.length).toBeGreaterThan(0)
    expect(command.enableJsonFlag).toBe(true)
    expect(command.baseFlags).toHaveProperty('config')
  })
})
