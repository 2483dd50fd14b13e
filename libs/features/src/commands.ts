import type { VmrCommand } from '@vmr/core';
import { audioCommands } from './audio';
import { flowCommands } from './flow/commands';

/** Every `vmr` subcommand of @vmr/features (bin/vmr.ts registers them). */
export const commands: VmrCommand[] = [...flowCommands, ...audioCommands];
