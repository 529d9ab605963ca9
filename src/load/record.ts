import { redactText, type Settings } from '../core/index.js'
import { recordEvent } from '../journal/index.js'
import type { LoadResult } from './result.js'
import { loadEvents } from './events.js'

/**
 * Every load run is a `load.run` event in the ops journal, so that the post-mortem timeline and
 * the CI gate see it. A journal that cannot be written must not cost the user the measurement:
 * the failure is reported and the run's own verdict stands.
 */
export async function recordLoadRun(settings: Settings, result: LoadResult, note: (message: string) => void): Promise<void> {
  try {
    const { summary } = result
    await recordEvent(settings, {
      kind: loadEvents.run.kind,
      subject: settings.config.service.name,
      data: { ...summary, scenario: summary.name, target: redactText(summary.target) },
    })
  } catch (error) {
    note(`Warning: the load run was not recorded in the journal: ${(error as Error).message}`)
  }
}
