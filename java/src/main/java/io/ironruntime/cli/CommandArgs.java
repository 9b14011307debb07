package io.ironruntime.cli;

import io.ironruntime.config.ConfigException;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Walks a command's arguments: {@code --flag value} or {@code --flag=value}, switches (flags that
 * take no value, reported with the value {@code "true"}), plain words, and with {@link Visitor#rest}
 * the words after a {@code --}.
 */
final class CommandArgs {
    interface Visitor {
        void flag(String flag, String value);

        /** A word that is not a flag. */
        void word(String word);

        /** Everything after {@code --}, taken as it is. */
        void rest(List<String> words);
    }

    private CommandArgs() {
    }

    /** Whether -h or --help comes before any {@code --}. */
    static boolean wantsHelp(String[] args, int from) {
        for (int i = from; i < args.length && !args[i].equals("--"); i++) {
            if (args[i].equals("-h") || args[i].equals("--help")) {
                return true;
            }
        }
        return false;
    }

    static void walk(String[] args, int from, Set<String> switches, Visitor visitor) {
        for (int i = from; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--")) {
                visitor.rest(List.copyOf(Arrays.asList(args).subList(i + 1, args.length)));
                return;
            }
            if (!arg.startsWith("-") || arg.equals("-")) {
                visitor.word(arg);
                continue;
            }
            int eq = arg.indexOf('=');
            String name = eq > 0 ? arg.substring(0, eq) : arg;
            if (switches.contains(name)) {
                if (eq > 0) {
                    throw new ConfigException(name + " takes no value");
                }
                visitor.flag(name, "true");
            } else if (eq > 0) {
                visitor.flag(arg.substring(0, eq), arg.substring(eq + 1));
            } else if (i + 1 < args.length) {
                visitor.flag(arg, args[++i]);
            } else {
                throw new ConfigException(arg + " needs a value");
            }
        }
    }
}
