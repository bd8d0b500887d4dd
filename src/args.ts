/**
 * The command line's option parser: the part of node:util's `parseArgs` that main.ts and the serve flags use
 * (strict, string and boolean options, `multiple`, `short`, positionals, `--`), with its answers and its
 * error messages (test/unit/args.test.ts compares them); a group of short flags ("-vx") is an unknown option. Not node:util itself: evaluating that module costs a compiled binary ~3 ms and ~3.7 MiB
 * at start (its inspect, promisify and primordials), which every `leoflow serve` and `leoflow agent` paid
 * to read a few flags (scripts/bench footprint).
 */

export interface ArgOption {
  type: "string" | "boolean";
  multiple?: boolean;
  short?: string;
}

type Value<O extends ArgOption> = O["type"] extends "boolean" ? boolean : string;
export type ArgValues<T extends Record<string, ArgOption>> = {
  [K in keyof T]?: T[K]["multiple"] extends true ? Value<T[K]>[] : Value<T[K]>;
};

/** Thrown for a command line the options do not accept; the message is node:util's. */
export class ArgsError extends TypeError {
  override name = "ArgsError";
}

/** Strict parsing, as node:util's parseArgs({ args, options, strict: true, allowPositionals }). */
export function parseArgs<T extends Record<string, ArgOption>>(config: {
  args: string[];
  options: T;
  /** Always strict; accepted so that a call reads as node:util's. */
  strict?: true;
  allowPositionals?: boolean;
}): { values: ArgValues<T>; positionals: string[] } {
  const { args, options } = config;
  const values: Record<string, string | boolean | (string | boolean)[]> = {};
  const positionals: string[] = [];
  const set = (name: string, value: string | boolean) => {
    if (options[name]!.multiple) ((values[name] as (string | boolean)[] | undefined) ??= []).push(value);
    else values[name] = value;
  };
  const positional = (arg: string) => {
    if (!config.allowPositionals) throw new ArgsError(`Unexpected argument '${arg}'. This command does not take positional arguments`);
    positionals.push(arg);
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      for (const rest of args.slice(i + 1)) positional(rest);
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positional(arg);
      continue;
    }
    const long = arg.startsWith("--");
    const eq = long ? arg.indexOf("=") : -1;
    const name = long ? arg.slice(2, eq === -1 ? undefined : eq) : shortName(arg[1]!, options);
    const shown = long ? `--${name}` : arg.slice(0, 2);
    const option = Object.hasOwn(options, name) ? options[name]! : undefined;
    if (!option || (!long && arg.length > 2 && option.type === "boolean"))
      throw new ArgsError(
        `Unknown option '${shown}'` +
          (config.allowPositionals
            ? `. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- ${JSON.stringify(shown)}`
            : ""),
      );
    const inline = long ? (eq === -1 ? undefined : arg.slice(eq + 1)) : arg.length > 2 ? arg.slice(2) : undefined;
    if (option.type === "boolean") {
      if (inline !== undefined) throw new ArgsError(`Option '${optionUsage(name, option)}' does not take an argument`);
      set(name, true);
      continue;
    }
    if (inline !== undefined) {
      set(name, inline);
      continue;
    }
    const next = args[i + 1];
    if (next === undefined) throw new ArgsError(`Option '${optionUsage(name, option)} <value>' argument missing`);
    if (next.length > 1 && next.startsWith("-"))
      throw new ArgsError(
        `Option '${shown}' argument is ambiguous.\n` +
          `Did you forget to specify the option argument for '${shown}'?\n` +
          `To specify an option argument starting with a dash use '${long ? `--${name}=-XYZ` : `--${name}=-XYZ' or '${shown}-XYZ`}'.`,
      );
    set(name, next);
    i++;
  }
  return { values: values as ArgValues<T>, positionals };
}

/** The option a short flag names (its `short`, else one named by the letter itself, as node:util does). */
function shortName(letter: string, options: Record<string, ArgOption>): string {
  for (const [name, option] of Object.entries(options)) if (option.short === letter) return name;
  return letter;
}

/** How node:util names an option in its messages: "-s, --long" when it has a short form. */
function optionUsage(name: string, option: ArgOption): string {
  return option.short ? `-${option.short}, --${name}` : `--${name}`;
}
