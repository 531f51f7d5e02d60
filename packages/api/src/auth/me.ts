import { z } from 'zod';
import { signedInProcedure } from '../trpc';
import { userDto, ZUser } from './schemas';

export const me = signedInProcedure
  .meta({
    openapi: {
      method: 'GET',
      path: '/tdk/me',
      tags: ['auth'],
      summary: 'The signed-in account',
    },
  })
  .input(z.void())
  .output(ZUser)
  .query(({ ctx }) => userDto(ctx.user));
