import type { FastifyPluginAsync } from 'fastify'
import type pg from 'pg'
import { findItemsBySku } from '../store/items.js'

export interface ItemsRoutesOptions {
  pool: pg.Pool
}

export const itemsRoutes: FastifyPluginAsync<ItemsRoutesOptions> = async (app, { pool }) => {
  app.get<{ Querystring: { sku: string } }>(
    '/items',
    {
      schema: {
        querystring: {
          type: 'object',
          required: ['sku'],
          properties: { sku: { type: 'string', minLength: 1, maxLength: 64 } },
        },
      },
    },
    async (request) => {
      const items = await findItemsBySku(pool, request.query.sku)
      return { sku: request.query.sku, items }
    },
  )
}
