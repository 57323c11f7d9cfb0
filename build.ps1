#!/usr/bin/env pwsh
# Build entry point: dotnet pwsh ./build.ps1 <build|test|bench|pack|cluster-demo> [-- extra args]
param(
    [Parameter(Position = 0)][ValidateSet('build', 'test', 'bench', 'pack', 'cluster-demo')][string]$Target = 'build',
    [Parameter(ValueFromRemainingArguments = $true)][string[]]$Rest = @()
)
$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot

function Invoke-Dotnet([string[]]$arguments) {
    & dotnet @arguments
    if ($LASTEXITCODE -ne 0) { throw "dotnet $($arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

switch ($Target) {
    'build' { Invoke-Dotnet @('build', 'BanActors.sln', '-c', 'Release') }
    'test' { Invoke-Dotnet (@('test', 'BanActors.sln') + $Rest) }
    'bench' { Invoke-Dotnet (@('run', '-c', 'Release', '--project', 'bench/BanActors.Bench', '--') + $Rest) }
    # The NuGet packages (packages.slnf: BanActors, BanActors.PostgreSql, BanActors.Cluster) into artifacts/packages;
    # e.g. `pack -- -p:VersionSuffix=preview.1`.
    'pack' { Invoke-Dotnet (@('pack', 'packages.slnf', '-c', 'Release', '-o', 'artifacts/packages') + $Rest) }
    'cluster-demo' { & bash ./scripts/cluster-demo.sh @Rest; if ($LASTEXITCODE -ne 0) { throw 'cluster demo failed' } }
}
