// The package entry: the constructs and the vocabulary their props use, the stack-config parser,
// and the loaders of the pinned upstream files. Re-exports only; importing it has no side effects.
export * from './model/constants';
export * from './model/errors';
export * from './model/validators';
export * from './model/canary';
export * from './model/image-updates';
export * from './model/objects';
export * from './model/sync-policy';
export * from './model/notifications';
export * from './config/schema';
export * from './config/parse';
export * from './config/stack-file';
export * from './constructs';
export * from './render/synthesize';
export * from './render/upstream';
export * from './render/tools';
