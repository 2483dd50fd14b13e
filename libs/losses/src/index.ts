/**
 * @vmr/losses — the OF-VM-Net loss (paper λ1…λ6 with hardest-k mining, and the `vmr-code` protocol)
 * and the VM-Net loss (cross-modal triplets + soft intra-modal structure). DESIGN.md §1.4.
 */
export {
  OfLossConfigSchema,
  type OfLossConfig,
  type OfLossConfigInput,
  VmNetLossConfigSchema,
  type VmNetLossConfig,
  type VmNetLossConfigInput,
} from './config';
export { topKIndices, bottomKIndices, highLowSegments } from './mining';
export { ofVmNetLoss, parseOfLossConfig, type OfLossResult, type OfLossOptions, type MinedTriplet } from './of-loss';
export { vmNetLoss, parseVmNetLossConfig, type VmNetLossResult } from './vm-net-loss';
