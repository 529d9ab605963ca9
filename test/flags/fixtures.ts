import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseFlagsText, type LoadedFlags } from '../../src/flags/flags-file.js'

/** A flags.yaml with a comment on every level, the way people write them. */
export const SAMPLE_FLAGS = `# Flags of the shop.
environments: [development, production]

flags:
  # The N+1 fix.
  orders.eager-loading:
    type: release
    description: Batch the items query.
    owner: team-orders
    created: 2026-10-01
    environments:
      development:
        enabled: true # on while we test it
      production:
        enabled: false
        strategies:
          - name: flexibleRollout
            rollout: 10%   # start small
            stickiness: userId

  checkout.new-flow:
    type: experiment
    description: "The new checkout, A/B tested."
    owner: team-checkout
    created: 2026-11-20
    environments:
      production:
        enabled: true
        strategies:
          - name: userWithId
            userIds: [alice, bob]
          - name: flexibleRollout
            rollout: 50
            constraints:
              - contextName: appName
                operator: IN
                values: [web]
        variants:
          - name: blue
            weight: 30%
          - name: green
`

export function loaded(text = SAMPLE_FLAGS, file = 'flags.yaml'): LoadedFlags {
  return parseFlagsText(text, file)
}

/** A temporary project directory with a flags.yaml in it; remove() deletes it all. */
export function tempProject(text = SAMPLE_FLAGS): { dir: string; file: string; write(text: string): void; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-flags-'))
  const file = join(dir, 'flags.yaml')
  writeFileSync(file, text)
  return { dir, file, write: (next) => writeFileSync(file, next), remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** The OpsError message a function throws (or a failure if it does not). */
export function errorOf(run: () => unknown): { message: string; exit: number | undefined } {
  try {
    run()
  } catch (error) {
    return { message: (error as Error).message, exit: (error as { exit?: number }).exit }
  }
  throw new Error('expected an error')
}
