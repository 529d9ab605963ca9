import type { FastifyPluginAsync } from 'fastify'
import { findItemsBySku } from '../store/items.js'

export const itemsRoutes: FastifyPluginAsync = async (app) => {
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
      const items = await findItemsBySku(request.db, request.query.sku)
      return { sku: request.query.sku, items }
    },
  )
}
