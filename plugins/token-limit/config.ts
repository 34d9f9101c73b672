// token-limit's configuration: the zod schema is the source of truth; Kong's schema is derived from it.
import { z } from 'zod';
import { failModeField } from '../kong/common-config';

export const tokenLimitConfig = z.object({
  fail_mode: failModeField('closed'),
});
export type TokenLimitConfig = z.output<typeof tokenLimitConfig>;
