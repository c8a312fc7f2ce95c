"""Write-back actions on the mirror: flags and keywords, moves, folder create / rename / delete."""
