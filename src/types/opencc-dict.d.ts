// opencc-js ships its dictionaries as ESM modules exporting one string ("trad simp|trad simp|…") without types.
declare module 'opencc-js/dict/*' {
  const dict: string;
  export default dict;
}
