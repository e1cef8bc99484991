# Installs dspy-agent on Windows from a release (the PowerShell twin of install.sh).
#
#   irm https://github.com/dspy-agent/dspy-agent/releases/latest/download/install.ps1 | iex
#   & ([scriptblock]::Create((irm .../install.ps1))) -Version 0.1.0 -Prefix C:\Tools\dspy-agent
#
# Downloads SHA256SUMS and dspy-agent-<version>-x86_64-pc-windows-msvc.zip
# from the base URL, verifies the archive's SHA-256, and installs
# <Prefix>\bin\dspy-agent.exe (default prefix: %LOCALAPPDATA%\dspy-agent),
# adding that folder to the user's PATH. A checksum mismatch stops it before
# anything is installed.
#
# Not run on the project's Linux CI (no PowerShell there); install.sh is the
# tested reference and this script follows it step by step.
[CmdletBinding()]
param(
  [string]$Version = $(if ($env:DSPY_AGENT_VERSION) { $env:DSPY_AGENT_VERSION } else { "latest" }),
  [string]$Prefix = $(if ($env:DSPY_AGENT_PREFIX) { $env:DSPY_AGENT_PREFIX } else { Join-Path $env:LOCALAPPDATA "dspy-agent" }),
  [string]$BaseUrl = $env:DSPY_AGENT_BASE_URL,
  [switch]$NoPath
)

$ErrorActionPreference = "Stop"
$ProgressPreference = "SilentlyContinue" # Invoke-WebRequest is very slow with its progress bar
$RepoUrl = "https://github.com/dspy-agent/dspy-agent"

# Throws rather than `exit`: run through `irm | iex`, exit would close the
# user's PowerShell window.
function Fail([string]$Message) {
  throw "Cannot install dspy-agent: $Message"
}

# Only x86_64 Windows is released (scripts/targets.ts).
$arch = [System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture.ToString()
switch ($arch) {
  "X64" { $target = "x86_64-pc-windows-msvc" }
  "Arm64" { $target = "x86_64-pc-windows-msvc" } # runs under Windows' x64 emulation
  default { Fail "no release for the $arch architecture; build from source instead" }
}

$Version = $Version.TrimStart("v")
if (-not $BaseUrl) {
  if ($Version -eq "latest") { $BaseUrl = "$RepoUrl/releases/latest/download" }
  else { $BaseUrl = "$RepoUrl/releases/download/v$Version" }
}
$BaseUrl = $BaseUrl.TrimEnd("/")

$work = Join-Path ([System.IO.Path]::GetTempPath()) ("dspy-agent-install-" + [guid]::NewGuid())
New-Item -ItemType Directory -Path $work | Out-Null
try {
  Write-Host "Downloading $BaseUrl/SHA256SUMS"
  try { Invoke-WebRequest -UseBasicParsing -Uri "$BaseUrl/SHA256SUMS" -OutFile "$work\SHA256SUMS" }
  catch { Fail "could not download $BaseUrl/SHA256SUMS: $($_.Exception.Message)" }

  # Lines are "<sha256>  <archive>"; pick this target's (and version's) archive.
  $name = if ($Version -eq "latest") { "dspy-agent-[^ ]+-$([regex]::Escape($target))\.zip" }
          else { "dspy-agent-$([regex]::Escape($Version))-$([regex]::Escape($target))\.zip" }
  $line = Get-Content "$work\SHA256SUMS" | Where-Object { $_ -match "^([0-9a-f]{64}) [ *]($name)$" } | Select-Object -First 1
  if (-not $line) { Fail "no archive for $target (version $Version) is listed in $BaseUrl/SHA256SUMS" }
  $null = $line -match "^([0-9a-f]{64}) [ *](.+)$"
  $expected = $Matches[1]
  $archive = $Matches[2]

  Write-Host "Downloading $BaseUrl/$archive"
  try { Invoke-WebRequest -UseBasicParsing -Uri "$BaseUrl/$archive" -OutFile "$work\$archive" }
  catch { Fail "could not download $BaseUrl/$archive: $($_.Exception.Message)" }
  $actual = (Get-FileHash -Algorithm SHA256 -Path "$work\$archive").Hash.ToLowerInvariant()
  if ($actual -ne $expected) {
    Fail "checksum mismatch for $archive (SHA256SUMS says $expected, the download is $actual); the download is corrupt or was tampered with, so nothing was installed"
  }

  $unpacked = Join-Path $work "unpacked"
  try { Expand-Archive -Path "$work\$archive" -DestinationPath $unpacked }
  catch { Fail "$archive is not a valid .zip archive" }
  $exe = Join-Path $unpacked "dspy-agent.exe"
  if (-not (Test-Path $exe)) { Fail "$archive holds no dspy-agent.exe" }

  $binDir = Join-Path $Prefix "bin"
  New-Item -ItemType Directory -Force -Path $binDir | Out-Null
  # Copy beside the destination, then rename, so nobody sees a half-written binary.
  $staged = Join-Path $binDir ".dspy-agent.new.exe"
  Copy-Item -Force $exe $staged
  Move-Item -Force $staged (Join-Path $binDir "dspy-agent.exe")
  Write-Host "Installed $binDir\dspy-agent.exe ($($archive -replace '\.zip$', ''))"

  if (-not $NoPath) {
    $userPath = [Environment]::GetEnvironmentVariable("Path", "User")
    if (-not (($userPath -split ";") -contains $binDir)) {
      [Environment]::SetEnvironmentVariable("Path", "$binDir;$userPath", "User")
      Write-Host "Added $binDir to your PATH (open a new terminal to use it)"
    }
  }
  & (Join-Path $binDir "dspy-agent.exe") version
}
finally {
  Remove-Item -Recurse -Force $work -ErrorAction SilentlyContinue
}
