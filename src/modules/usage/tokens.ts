import { Tiktoken } from 'js-tiktoken/lite';

type Encoding = 'o200k_base' | 'cl100k_base';

const encoders = new Map<Encoding, Tiktoken>();

/**
 * OpenAI's newer models use o200k_base, older ones cl100k_base. Other providers publish no
 * JavaScript tokenizer, so their counts are cl100k_base estimates.
 */
export function encodingFor(modelName: string): Encoding {
  return /^(gpt-4o|gpt-4\.1|gpt-5|o\d)/.test(modelName) ? 'o200k_base' : 'cl100k_base';
}

// The rank files are megabytes each: load them on first use, not at start-up.
async function encoder(encoding: Encoding): Promise<Tiktoken> {
  let enc = encoders.get(encoding);
  if (!enc) {
    const ranks =
      encoding === 'o200k_base'
        ? (await import('js-tiktoken/ranks/o200k_base')).default
        : (await import('js-tiktoken/ranks/cl100k_base')).default;
    enc = new Tiktoken(ranks);
    encoders.set(encoding, enc);
  }
  return enc;
}

export async function countTokens(text: string, modelName: string): Promise<number> {
  return (await encoder(encodingFor(modelName))).encode(text).length;
}
