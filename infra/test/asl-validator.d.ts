// asl-validator ships no types: the one call the tests make (infra/aws and packages/retrain tests;
// here so both tsconfig.json and tsconfig.sst.json, which includes only infra, see it).
declare module 'asl-validator' {
  export default function validator(
    definition: unknown,
    options?: { checkPaths?: boolean; checkArn?: boolean },
  ): {
    isValid: boolean
    errors: { message?: string; 'Error code'?: string }[]
    errorsText(separator?: string): string
  }
}
