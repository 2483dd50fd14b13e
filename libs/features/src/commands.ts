import type { VmrCommand } from '@vmr/core';
import { audioCommands } from './audio';
import { flowCommands } from './flow/commands';
import { modelsCommand } from './extractors/commands';

/** Every `vmr` subcommand of @vmr/features (bin/vmr.ts registers them). */
export const commands: VmrCommand[] = [...flowCommands, ...audioCommands, modelsCommand];
