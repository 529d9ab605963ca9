/**
 * Every module's journal event kinds, registered before any command runs, so that the journal
 * listing, `journal append`, incident status and the post-mortem word and validate all of them.
 * A new module adds its events.ts here; a new kind in an existing module touches only that module.
 */
import '../activity/events.js'
import '../deploy/events.js'
import '../flags/events.js'
import '../gate/events.js'
import '../incident/events.js'
import '../load/events.js'
import '../profile/events.js'
import '../traffic/events.js'
export { registeredEventKinds } from '../journal/index.js'
