import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
export const listRoutes: FastifyPluginAsyncTypebox = async () => {};
