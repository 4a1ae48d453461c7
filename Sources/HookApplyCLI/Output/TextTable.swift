import Foundation
import HookKit

/// Aligned columns for people (`list`, `verify`): every cell escaped, each padded to its column's width
/// but the last, so a caller may style a padded cell without breaking the alignment.
enum TextTable {
    /// The header and rows, each cell escaped (``TerminalText``) and padded.
    static func padded(header: [String], rows: [[String]]) -> [[String]] {
        let escaped = rows.map { $0.map(TerminalText.line) }
        var widths = header.map(\.count)
        for row in escaped { for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) } }
        return ([header] + escaped).map { row in
            row.enumerated().map { index, cell in index == row.count - 1 ? cell : cell.padding(widths[index] + 1) }
        }
    }

    /// One line of padded cells, without trailing spaces.
    static func line(_ cells: [String]) -> String {
        cells.joined(separator: " ").trimmingCharacters(in: .whitespaces)
    }
}
