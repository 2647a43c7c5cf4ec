import CPosix

/// The terminal the live view draws on.
public enum Terminal {
    /// Its width in columns (TIOCGWINSZ, asked each time: a window may be resized), 80 when it does not say.
    public static func columns(_ fd: Int32 = 2) -> Int {
        let n = Int(cposix_terminal_columns(fd))
        return n > 0 ? n : 80
    }

    /// `line` cut to fit `columns` - 1 characters (the last column would wrap on some terminals).
    public static func fit(_ line: String, columns: Int) -> String {
        let room = Swift.max(columns - 1, 10)
        guard line.count > room else { return line }
        return String(line.prefix(room - 1)) + "…"
    }
}
