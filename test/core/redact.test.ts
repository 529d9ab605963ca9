import { describe, expect, it } from 'vitest'
import { redactText, redactValue } from '../../src/core/index.js'

describe('redactText', () => {
  it.each([
    ['postgres://app:s3cret@db:5432/app', 'postgres://app:***@db:5432/app'],
    ['connect to postgresql://u:p%40ss@10.0.0.1/x failed', 'connect to postgresql://u:***@10.0.0.1/x failed'],
    ['amqp://guest:guest@127.0.0.1:5672', 'amqp://guest:***@127.0.0.1:5672'],
    ['Authorization: Bearer abcdefghijklmnop', 'Authorization: Bearer ***'],
    ['password=hunter2 host=db', 'password=*** host=db'],
    ['https://api.example/x?token=abc123&page=2', 'https://api.example/x?token=***&page=2'],
    ['UNLEASH_API_TOKEN: "default:development.abc"', 'UNLEASH_API_TOKEN: "***"'],
  ])('redacts %s', (input, expected) => {
    expect(redactText(input)).toBe(expected)
  })

  it('leaves URLs without passwords alone', () => {
    expect(redactText('postgres://postgres@127.0.0.1:5432/postgres')).toBe('postgres://postgres@127.0.0.1:5432/postgres')
  })
})

describe('redactValue', () => {
  it('replaces secret-named keys and redacts strings deeply without touching the input', () => {
    const input = { database: { url: 'postgres://a:b@h/d', password: 'x' }, tokens: [{ apiKey: 'k' }], count: 3 }
    expect(redactValue(input)).toEqual({
      database: { url: 'postgres://a:***@h/d', password: '***' },
      tokens: [{ apiKey: '***' }],
      count: 3,
    })
    expect(input.database.password).toBe('x')
  })

  it('survives cycles', () => {
    const cyclic: Record<string, unknown> = { name: 'a' }
    cyclic.self = cyclic
    expect(redactValue(cyclic)).toEqual({ name: 'a', self: '[circular]' })
  })
})
