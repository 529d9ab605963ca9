export { openDatabase, type DatabaseHandle, type OpenDatabaseOptions } from './open.js'
export { embeddedUrl, startEmbeddedServer, type EmbeddedServer, type StartEmbeddedOptions } from './embedded.js'
export { canConnect, probeDatabase } from './probe.js'
