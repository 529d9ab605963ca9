export { openDatabase, withDatabase, type DatabaseHandle } from './open.js'
