/**
 * The core validates with the tree-shakable `zod/mini` (a Lambda bundle of the core is ~80 KB
 * smaller than with classic zod), which loads no messages: this gives it the English ones classic
 * zod would. Imported for its effect by each module that defines schemas.
 */
import * as z from 'zod/mini'
import en from 'zod/v4/locales/en.js'

z.config(en())
