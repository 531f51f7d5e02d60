import { signIn } from '../auth/login';
import { userDto, ZCredentials, ZUser } from '../auth/schemas';
import { publicProcedure } from '../trpc';

/**
 * The admin app's sign-in: admins only, and the session token goes into the HttpOnly cookie alone,
 * never into the answer, so no script in the browser can read it.
 */
export const adminSignIn = publicProcedure
  .input(ZCredentials)
  .output(ZUser)
  .mutation(async ({ ctx, input }) => userDto((await signIn(ctx, input, 'admin')).user));
