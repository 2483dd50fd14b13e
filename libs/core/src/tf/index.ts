/** TensorFlow.js plumbing shared by models, losses and apps: the tf instance, backend selection, fast ops. */
export { tf } from './tfjs';
export {
  BackendNameSchema,
  type BackendName,
  type ConcreteBackend,
  type BackendAttempt,
  type BackendInfo,
  selectBackend,
  activeBackend,
  webgpuEnabled,
  describeMatmul,
} from './backend';
export { nativeGemmStatus, nativeGemmPath, setNativeGemmThreads, setNativeGemmAvx2Only, setNativeGemmActive, nativeGemmActive, type NativeGemmStatus } from './native-gemm';
export { matMul, linear, swapLastAxes } from './fast-matmul';
export { gatherRows, selectRows } from './gather-rows';
export { dropout, dropoutMask, reluDropout, DropoutStream, tensorFilledInPlace, type MaskFill } from './dropout';
export { phase, profilePhases, type PhaseProfile } from './profile';
