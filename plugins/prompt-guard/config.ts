// prompt-guard's configuration: the zod schema is the source of truth; Kong's schema is derived from it.
import { z } from 'zod';
import { failModeField } from '../kong/common-config';

export const promptGuardConfig = z.object({
  fail_mode: failModeField('closed'),
});
export type PromptGuardConfig = z.output<typeof promptGuardConfig>;
