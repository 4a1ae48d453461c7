import Foundation
import HookApplyCLI

// The executable is only this: build a Context from the process and run. Everything else is in HookApplyCLI.
let context = Context(
    arguments: Array(CommandLine.arguments.dropFirst()),
    environment: ProcessInfo.processInfo.environment,
    currentDirectory: FileManager.default.currentDirectoryPath,
    standardOutput: OutputStream(fileDescriptor: STDOUT_FILENO),
    standardError: OutputStream(fileDescriptor: STDERR_FILENO),
    readStandardInput: { Array(FileHandle.standardInput.readDataToEndOfFile()) },
    readLine: { Swift.readLine(strippingNewline: true) },
    isStandardInputTerminal: isatty(STDIN_FILENO) == 1,
    isStandardOutputTerminal: isatty(STDOUT_FILENO) == 1,
    isStandardErrorTerminal: isatty(STDERR_FILENO) == 1,
    handlesSignals: true)
let code = await HookApply.run(context)
exit(code.rawValue)
