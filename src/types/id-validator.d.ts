/** Types for `id-validator` (a dev dependency: the independent implementation of the differential ID test). */
declare module 'id-validator' {
  class IDValidator {
    constructor(gb2260?: Record<string, string>);
    isValid(id: string, forceType?: 15 | 18): boolean;
  }
  export default IDValidator;
}
