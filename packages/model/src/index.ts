/** The nslab model: vocabulary, rules and protocol shared by the server and the browser. */
export * from './address';
export * from './names';
export * from './topology';
export * from './route';
export * from './nat';
export * from './interface/index';
export * from './op';
export * from './plan';
export * from './problem';
export * from './schema';
export * from './file';
export * from './validate';
export * from './script';
export * from './patch';
export * from './edit';
export * from './protocol';
