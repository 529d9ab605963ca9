import { z } from 'zod'
import { serviceSection } from './config-sections/service.js'
import { databaseSection } from './config-sections/database.js'
import { journalSection } from './config-sections/journal.js'
import { flagsSection } from './config-sections/flags.js'
import { nplusoneSection } from './config-sections/nplusone.js'
import { runbooksSection } from './config-sections/runbooks.js'
import { activitySection } from './config-sections/activity.js'
import { incidentSection } from './config-sections/incident.js'
import { gateSection } from './config-sections/gate.js'
import { routerSection } from './config-sections/router.js'
import { deploySection } from './config-sections/deploy.js'

/**
 * The shape of opsctl.yaml. Every section is strict so that a misspelled key is refused,
 * and every leaf can be overridden by an OPSCTL_* variable derived from its path
 * (journal.url -> OPSCTL_JOURNAL_URL, journal.segmentSize -> OPSCTL_JOURNAL_SEGMENT_SIZE).
 * Each section lives in its own file under config-sections/, with its defaults: the one place
 * a default is written (modules and flag help read it from here).
 */
export const configSchema = z
  .strictObject({
    service: serviceSection,
    database: databaseSection,
    journal: journalSection,
    flags: flagsSection,
    nplusone: nplusoneSection,
    runbooks: runbooksSection,
    activity: activitySection,
    incident: incidentSection,
    gate: gateSection,
    router: routerSection,
    deploy: deploySection,
  })
  .describe('opsctl configuration (opsctl.yaml).')

export type Config = z.infer<typeof configSchema>

export function configJsonSchema(): Record<string, unknown> {
  return {
    title: 'opsctl.yaml',
    ...z.toJSONSchema(configSchema, { io: 'input' }),
  }
}
