// The package entry: the constructs, plus the loaders that read stack config and the pinned upstream cache.
export * from './constructs';
export * from './loaders/upstream';
export * from './loaders/stack-config';
export * from './loaders/tools';
