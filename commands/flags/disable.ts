import FlagsEnable from './enable.js'

export default class FlagsDisable extends FlagsEnable {
  static override summary = 'Turn a flag off in one environment.'
  static override examples = [
    '<%= config.bin %> flags disable orders.eager-loading --env production --reason "N+1 fix verified on staging"',
  ]
  protected override action = 'disable' as const
}
