// esbuild emits imported CSS next to the bundle; the import only has a side effect.
declare module "*.css";
